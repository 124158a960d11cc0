using EventStream.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using EventStream.Protocol.V1;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Consuming.LargeEventTests;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>
/// A broker configured with a 256 KiB message limit: deliveries follow the configured limit, produce
/// refuses events too large for any message, and one stored anyway (under a higher limit) ends the
/// session visibly and comes again, never skipped.
/// </summary>
public sealed class MessageLimitTests : IAsyncLifetime
{
    private const int Limit = 256 * 1024;
    private readonly TestDirectory _directory = new();
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = BrokerProcess.Start(new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = _directory.Path,
            ["EventStream__Grpc__MaxSendMessageSize"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await _broker.WaitUntilServingAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Deliveries_stay_under_the_configured_message_limit()
    {
        var topic = await CreateTopicAsync(_broker.Channel);
        await using var member = await SubscribeSession.JoinAsync(_broker.Channel, Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]));
        await WaitUntilAsync(() => member.Shards.Count == 32 || member.Failure is not null, "the member holds every shard");
        var polled = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);

        // 100 KB events: two fit a message of the limit, three do not.
        await ProduceLargeAsync(_broker.Channel, topic, 20, 100 * 1024, 10);

        await WaitUntilAsync(() => member.Received.Count >= 20 || member.Failure is not null, "every event was pushed");
        Assert.Null(member.Failure);
        AssertLargeEvents(member.Received.Select(r => r.Event).ToList(), 20, 100 * 1024);
        AssertLargeEvents(await PollUntilAsync(_broker.Channel, polled, 20, TimeSpan.FromSeconds(60)), 20, 100 * 1024);
    }

    [Fact]
    public async Task Event_larger_than_the_message_limit_ends_the_session_visibly_and_comes_again()
    {
        var topic = await CreateTopicAsync(_broker.Channel);
        var memberId = "m-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], memberId: memberId);
        await using var first = await SubscribeSession.JoinAsync(_broker.Channel, subscription);
        await WaitUntilAsync(() => first.Shards.Count == 32 || first.Failure is not null, "the member holds every shard");

        // Produce refuses it under this limit: it was stored when the limit was higher.
        var tooLarge = await StoreDirectlyAsync(topic, 300 * 1024);

        await WaitUntilAsync(() => first.Failure is not null, "the session ended");
        AssertTooLarge(first.Failure, tooLarge);
        await WaitUntilAsync(() => _broker.Output.Contains($"event {tooLarge}) exceeds the send limit of {Limit} bytes", StringComparison.Ordinal),
            "the broker logged the failure");

        // Not skipped: the member's next session gets the same event, and so does a Poll.
        await using var second = await SubscribeSession.JoinAsync(_broker.Channel, subscription);
        await WaitUntilAsync(() => second.Failure is not null, "the next session ended");
        AssertTooLarge(second.Failure, tooLarge);
        var polled = await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(_broker.Channel).PollAsync(new PollRequest
        {
            Subscription = subscription,
            MaxWait = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
        }).ResponseAsync);
        AssertTooLarge(polled, tooLarge);
        Assert.Empty(first.Received);
        Assert.Empty(second.Received);
    }

    [Fact]
    public async Task Event_larger_than_the_message_limit_is_refused_at_produce()
    {
        var topic = await CreateTopicAsync(_broker.Channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => ProduceLargeAsync(_broker.Channel, topic, 1, 300 * 1024, 1));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("EventStream:Grpc:MaxSendMessageSize", error.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>Writes an event into the table as a broker with a higher limit would have; returns its id.</summary>
    private async Task<long> StoreDirectlyAsync(string topic, int size)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(_directory.Path));
        await using var command = database.CreateCommand(
            "INSERT INTO eventstream.events (topic_id, shard, event_id, ingest_time, payload) " +
            "SELECT topic_id, 0, (SELECT coalesce(max(event_id), 0) + 1000000 FROM eventstream.events), now(), $2 FROM eventstream.topics WHERE name = $1 " +
            "RETURNING event_id");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = topic });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = new byte[size] });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static void AssertTooLarge(Exception? failure, long eventId)
    {
        var status = Assert.IsType<RpcException>(failure);
        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.Contains($"Event {eventId} of shard", status.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"message limit of {Limit} bytes", status.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
