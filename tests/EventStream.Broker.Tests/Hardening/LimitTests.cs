using EventStream.Protocol.V1;
using EventStream.Testing;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Hardening;

/// <summary>
/// The broker's limits on a broker configured low: past each, RESOURCE_EXHAUSTED naming the
/// setting (or the documented end of an idle stream), while everyone else carries on.
/// </summary>
public sealed class LimitTests(LimitTests.LimitedBroker limited) : IClassFixture<LimitTests.LimitedBroker>
{
    private const int MaxGroups = 3;
    private const int MaxStreams = 3;
    private BrokerProcess Broker => limited.Process;

    /// <summary>A broker of its own, with low limits.</summary>
    public sealed class LimitedBroker : IAsyncLifetime
    {
        private readonly TestDirectory _directory = new();

        public BrokerProcess Process { get; private set; } = null!;

        public string DataDirectory => _directory.Path;

        public async Task InitializeAsync()
        {
            Process = BrokerProcess.Start(new Dictionary<string, string>
            {
                ["EventStream__Embedded__DataDirectory"] = _directory.Path,
                ["EventStream__Consume__MaxGroups"] = MaxGroups.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["EventStream__Consume__MaxMembersPerGroup"] = "1",
                ["EventStream__Grpc__IdleStreamTimeout"] = "00:00:01",
                ["EventStream__Grpc__MaxSendMessageSize"] = "131072",
                ["EventStream__Grpc__MaxStreamsPerConnection"] = MaxStreams.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            await Process.WaitUntilServingAsync();
        }

        public async Task DisposeAsync()
        {
            await Process.DisposeAsync();
            _directory.Dispose();
        }
    }

    [Fact]
    public async Task Groups_past_the_limit_are_refused_and_existing_ones_still_join()
    {
        var topic = await CreateTopicAsync(Broker.Channel);
        var first = Subscription("g-a-" + Guid.NewGuid().ToString("N"), [topic]);
        first.MemberId = (await PollAsync(first)).MemberId;
        var made = new List<string> { first.Group };
        var groups = (await new Admin.AdminClient(Broker.Channel).ListGroupsAsync(new ListGroupsRequest()).ResponseAsync).Groups.Count;
        for (var i = groups; i < MaxGroups; i++)
        {
            made.Add("g-b-" + Guid.NewGuid().ToString("N"));
            await PollAsync(Subscription(made[^1], [topic]));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => PollAsync(Subscription("g-c-" + Guid.NewGuid().ToString("N"), [topic])));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("EventStream:Consume:MaxGroups", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(first.MemberId, (await PollAsync(first)).MemberId);
        // Room again once a group is deleted.
        made.Add("g-c-" + Guid.NewGuid().ToString("N"));
        await DeleteGroupAsync(made[0]);
        await PollAsync(Subscription(made[^1], [topic]));
        foreach (var group in made.Skip(1))
        {
            await DeleteGroupAsync(group);
        }
    }

    [Fact]
    public async Task New_groups_joining_at_once_never_pass_the_limit()
    {
        var topic = await CreateTopicAsync(Broker.Channel);
        var names = Enumerable.Range(0, 8).Select(_ => "g-r-" + Guid.NewGuid().ToString("N")).ToList();

        var joins = names.Select(async name =>
        {
            try
            {
                await PollAsync(Subscription(name, [topic]));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }).ToList();
        var outcomes = await Task.WhenAll(joins);

        var groups = (await new Admin.AdminClient(Broker.Channel).ListGroupsAsync(new ListGroupsRequest()).ResponseAsync).Groups;
        Assert.True(groups.Count <= MaxGroups, $"{groups.Count} groups exist; the limit is {MaxGroups}");
        Assert.All(outcomes, o => Assert.True(o is StatusCode.OK or StatusCode.ResourceExhausted, $"unexpected {o}"));
        Assert.Contains(StatusCode.ResourceExhausted, outcomes);
        foreach (var group in groups.Select(g => g.Group).Where(names.Contains))
        {
            await DeleteGroupAsync(group);
        }
    }

    [Fact]
    public async Task Members_past_the_limit_are_refused_and_the_member_in_place_renews()
    {
        var topic = await CreateTopicAsync(Broker.Channel);
        var group = "g-m-" + Guid.NewGuid().ToString("N");
        var first = await PollAsync(Subscription(group, [topic], memberId: "one"));

        var error = await Assert.ThrowsAsync<RpcException>(() => PollAsync(Subscription(group, [topic], memberId: "two")));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("EventStream:Consume:MaxMembersPerGroup", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(first.MemberId, (await PollAsync(Subscription(group, [topic], memberId: "one"))).MemberId);
        await DeleteGroupAsync(group);
    }

    [Fact]
    public async Task A_streaming_call_past_the_connection_limit_is_refused_and_unary_calls_still_pass()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Broker.Address);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var watches = new List<AsyncServerStreamingCall<Grpc.Health.V1.HealthCheckResponse>>();
        for (var i = 0; i < MaxStreams; i++)
        {
            var watch = health.Watch(new Grpc.Health.V1.HealthCheckRequest());
            Assert.True(await watch.ResponseStream.MoveNext(TestTimeout.Token(30)));
            watches.Add(watch);
        }

        using var extra = health.Watch(new Grpc.Health.V1.HealthCheckRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => extra.ResponseStream.MoveNext(TestTimeout.Token(30)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("EventStream:Grpc:MaxStreamsPerConnection", error.Status.Detail, StringComparison.Ordinal);
        await CreateTopicAsync(channel);
        // A stream that ends makes room for another.
        watches[0].Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var again = health.Watch(new Grpc.Health.V1.HealthCheckRequest());
            try
            {
                Assert.True(await again.ResponseStream.MoveNext(TestTimeout.Token(30)));
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                // The ended stream's handler has not finished yet.
                await Task.Delay(50);
            }
        }
        foreach (var watch in watches.Skip(1))
        {
            watch.Dispose();
        }
    }

    [Fact]
    public async Task An_idle_produce_stream_is_closed_cleanly_and_a_join_that_never_comes_ends()
    {
        var topic = await CreateTopicAsync(Broker.Channel);
        using var produce = new Producer.ProducerClient(Broker.Channel).ProduceStream();
        await produce.RequestStream.WriteAsync(new ProduceStreamRequest { RequestId = 1, Batch = Batch(topic, [Event(null, "x")]) });
        Assert.True(await produce.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ProduceStreamResponse.ResultOneofCase.Response, produce.ResponseStream.Current.ResultCase);

        // Nothing more is sent: the broker ends the call, with OK and a message naming the setting.
        Assert.False(await produce.ResponseStream.MoveNext(TestTimeout.Token(30)));
        Assert.Equal(StatusCode.OK, produce.GetStatus().StatusCode);
        Assert.Contains("IdleStreamTimeout", produce.GetStatus().Detail, StringComparison.Ordinal);

        using var subscribe = new Consumer.ConsumerClient(Broker.Channel).Subscribe();
        var error = await Assert.ThrowsAsync<RpcException>(() => subscribe.ResponseStream.MoveNext(TestTimeout.Token(30)));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("IdleStreamTimeout", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_that_could_never_be_delivered_is_refused_at_produce()
    {
        var topic = await CreateTopicAsync(Broker.Channel);
        // Within the 1 MiB event limit, but not within a 128 KiB message.
        var request = Batch(topic, [new EventData { Data = ByteString.CopyFrom(new byte[120 * 1024]) }]);

        var error = await Assert.ThrowsAsync<RpcException>(() => new Producer.ProducerClient(Broker.Channel).ProduceAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("MaxSendMessageSize", error.Status.Detail, StringComparison.Ordinal);
        var fits = Batch(topic, [new EventData { Data = ByteString.CopyFrom(new byte[100 * 1024]) }]);
        Assert.Single((await new Producer.ProducerClient(Broker.Channel).ProduceAsync(fits).ResponseAsync).Shards);
    }

    [Fact]
    public async Task Retention_past_its_maximum_is_refused_and_maintenance_keeps_running()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CreateTopicAsync(Broker.Channel, UniqueTopic(), TimeSpan.FromDays(3_652_500)));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("retention", error.Status.Detail, StringComparison.Ordinal);
        // The longest retention allowed still leaves maintenance within the database's time range.
        await CreateTopicAsync(Broker.Channel, UniqueTopic(), TimeSpan.FromDays(36_500));

        await using var database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(limited.DataDirectory));
        await using var command = database.CreateCommand("SELECT eventstream.run_maintenance()");
        await command.ExecuteNonQueryAsync();
    }

    private Task DeleteGroupAsync(string group) =>
        new Admin.AdminClient(Broker.Channel).DeleteGroupAsync(new DeleteGroupRequest { Group = group }).ResponseAsync;

    private Task<PollResponse> PollAsync(Subscription subscription) =>
        new Consumer.ConsumerClient(Broker.Channel).PollAsync(new PollRequest { Subscription = subscription, MaxWait = new Duration() }).ResponseAsync;
}
