using EventStream.Broker.Tests.Broker;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using EventStream.Testing;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>
/// Large events on one key, whose batches by count alone would exceed the 4 MiB message limit,
/// reach members through Subscribe and Poll; a Poll answer lost in transit is answered again.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class LargeEventTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Theory]
    [InlineData(600, 10 * 1024, 200)]
    [InlineData(6, 900 * 1024, 3)]
    public async Task Subscribe_delivers_a_backlog_of_large_events_of_one_key_and_again_to_the_next_session(int count, int size, int perRequest)
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], memberId: "m-" + Guid.NewGuid().ToString("N"));
        await BacklogAsync(subscription, count, size, perRequest);

        await using (var first = await SubscribeSession.JoinAsync(Channel, subscription))
        {
            await Wait.UntilAsync(() => first.Received.Count >= count || first.Failure is not null, $"{count} events arrived", TimeSpan.FromSeconds(60));
            Assert.Null(first.Failure);
            AssertLargeEvents(first.Received.Select(r => r.Event).ToList(), count, size);
            await first.AbandonAsync();
        }

        // Nothing was committed: a new session of the member gets everything again, at once.
        await using var second = await SubscribeSession.JoinAsync(Channel, subscription);
        await Wait.UntilAsync(() => second.Received.Count >= count || second.Failure is not null, $"{count} events arrived again", TimeSpan.FromSeconds(60));
        Assert.Null(second.Failure);
        AssertLargeEvents(second.Received.Select(r => r.Event).ToList(), count, size);
    }

    [Theory]
    [InlineData(600, 10 * 1024, 200)]
    [InlineData(6, 900 * 1024, 3)]
    public async Task Poll_delivers_every_large_event_of_one_key(int count, int size, int perRequest)
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        await ProduceLargeAsync(Channel, topic, count, size, perRequest);

        var events = await PollUntilAsync(Channel, subscription, count, TimeSpan.FromSeconds(60));

        AssertLargeEvents(events, count, size);
    }

    [Fact]
    public async Task Poll_answer_the_client_refused_is_returned_again_by_the_next_poll()
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]);
        await JoinByPollAsync(subscription);
        var produced = await ProduceLargeAsync(Channel, topic, 5, 20 * 1024, 5);

        // A client that takes at most 16 KiB per message drops the answer after the broker sent it.
        using (var small = GrpcChannel.ForAddress(broker.Process.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 }))
        {
            // A wake before the events reached the group answers empty (nothing delivered): poll again.
            RpcException? refused = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (refused is null)
            {
                Assert.True(DateTime.UtcNow < deadline, "No answer carried the events within 30 s.");
                try
                {
                    Assert.Empty((await PollAsync(small, subscription, TimeSpan.FromSeconds(10))).Events);
                }
                catch (RpcException e)
                {
                    refused = e;
                }
            }
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        }

        var again = await PollAsync(Channel, subscription, TimeSpan.Zero);
        Assert.Equal(produced, again.Events.Select(e => e.EventId));
    }

    [Fact]
    public async Task Poll_answer_abandoned_after_it_arrived_is_returned_again_until_committed()
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]);
        await JoinByPollAsync(subscription);
        var produced = await ProduceLargeAsync(Channel, topic, 5, 1024, 5);

        // The broker answered (its headers come with the answer), and the client cancels without reading it.
        using (var call = new Consumer.ConsumerClient(Channel).PollAsync(PollRequest(subscription, TimeSpan.FromSeconds(10))))
        {
            await call.ResponseHeadersAsync;
        }

        var again = await PollAsync(Channel, subscription, TimeSpan.Zero);
        Assert.Equal(produced, again.Events.Select(e => e.EventId));
        var once = await PollAsync(Channel, subscription, TimeSpan.Zero);
        Assert.Equal(produced, once.Events.Select(e => e.EventId));
        await new Consumer.ConsumerClient(Channel).CommitAsync(new CommitRequest { Group = subscription.Group, MemberId = subscription.MemberId, Commits = { once.Commits } }).ResponseAsync;
        Assert.Empty((await PollAsync(Channel, subscription, TimeSpan.Zero)).Events);
    }

    /// <summary>Produces <paramref name="count"/> events of about <paramref name="size"/> bytes on one key, in requests under the 4 MiB limit; returns their ids.</summary>
    internal static async Task<List<long>> ProduceLargeAsync(GrpcChannel channel, string topic, int count, int size, int perRequest)
    {
        var ids = new List<long>();
        for (var from = 0; from < count; from += perRequest)
        {
            var events = Enumerable.Range(from, Math.Min(perRequest, count - from))
                .Select(i => new EventData { KeyText = "one-key", Data = ByteString.CopyFromUtf8(LargePayload(i, size)) });
            var response = await new Producer.ProducerClient(channel).ProduceAsync(Batch(topic, events)).ResponseAsync;
            ids.AddRange(response.Deliveries().Select(d => d.EventId));
        }
        return ids;
    }

    internal static string LargePayload(int i, int size)
    {
        var head = $"e{i}:";
        return head + new string((char)('a' + (i % 26)), size - head.Length);
    }

    internal static void AssertLargeEvents(IReadOnlyList<Event> events, int count, int size)
    {
        Assert.Equal(count, events.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, count).Select(i => LargePayload(i, size)), events.DistinctBy(e => e.EventId).Select(e => e.Data.ToStringUtf8()));
    }

    /// <summary>
    /// Starts the group, leaves it, produces, and waits until the group buffered every event:
    /// the next member finds them all waiting, as after an outage.
    /// </summary>
    private async Task BacklogAsync(Subscription subscription, int count, int size, int perRequest)
    {
        var starter = subscription.Clone();
        starter.MemberId = "";
        var joined = await PollAsync(Channel, starter, TimeSpan.Zero);
        await new Consumer.ConsumerClient(Channel).LeaveAsync(new LeaveRequest { Group = starter.Group, MemberId = joined.MemberId }).ResponseAsync;
        await ProduceLargeAsync(Channel, subscription.Topics.Single(), count, size, perRequest);
        var admin = new Admin.AdminClient(Channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await admin.DescribeGroupAsync(new DescribeGroupRequest { Group = subscription.Group })).Shards.Sum(s => s.BufferedEvents) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until the group buffered every event.");
            await Task.Delay(50);
        }
    }

    private async Task JoinByPollAsync(Subscription subscription)
    {
        var joined = await PollAsync(Channel, subscription, TimeSpan.Zero);
        Assert.Equal(32, joined.Assigned.Count);
    }

    private static async Task<PollResponse> PollAsync(GrpcChannel channel, Subscription subscription, TimeSpan wait)
    {
        var response = await new Consumer.ConsumerClient(channel).PollAsync(PollRequest(subscription, wait)).ResponseAsync;
        subscription.MemberId = response.MemberId;
        return response;
    }

    private static PollRequest PollRequest(Subscription subscription, TimeSpan wait) =>
        new() { Subscription = subscription, MaxEvents = 1000, MaxWait = Duration.FromTimeSpan(wait) };
}
