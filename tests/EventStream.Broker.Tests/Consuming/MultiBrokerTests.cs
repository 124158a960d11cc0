using EventStream.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Google.Protobuf.WellKnownTypes;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>Several broker processes on one database: one coordinator per group, redirects, takeover.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiBrokerTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Calls_reaching_a_broker_that_does_not_run_the_group_are_sent_to_the_one_that_does()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(a.Channel);
        var group = NewGroup();
        await using var first = await SubscribeSession.JoinAsync(a.Channel, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => first.Shards.Count == 32, "the first member holds every shard");
        Assert.Equal(a.Address, await cluster.CoordinatorOfAsync(group));
        // Either broker says which one runs the group.
        var described = await new Admin.AdminClient(b.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group }).ResponseAsync;
        Assert.Equal(a.Address, described.Coordinator.Address);

        var subscribe = await Assert.ThrowsAsync<RpcException>(() => SubscribeSession.JoinAsync(b.Channel, Subscription(group, [topic], session: Session)));
        AssertRedirectedTo(a, subscribe);
        AssertRedirectedTo(a, await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(b.Channel).PollAsync(new PollRequest { Subscription = Subscription(group, [topic], session: Session), MaxWait = Duration.FromTimeSpan(TimeSpan.Zero) }).ResponseAsync));
        AssertRedirectedTo(a, await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(b.Channel).CommitAsync(new CommitRequest { Group = group, MemberId = first.MemberId, Commits = { new ShardCommit { Shard = 0, Epoch = 1, Position = new Position() } } }).ResponseAsync));
        AssertRedirectedTo(a, await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(b.Channel).LeaveAsync(new LeaveRequest { Group = group, MemberId = first.MemberId }).ResponseAsync));

        // A real gRPC client (python grpcio) reads the same status and trailer, on unary and streaming calls.
        await using (var python = ExternalProcess.Start("/usr/bin/python3", [
            Path.Combine(RepositoryPaths.Interop, "python", "broker_checks.py"), b.Target, "--only", "coordinator_redirect",
            "--redirect-group", group, "--redirect-topic", topic, "--coordinator", a.Address, "--timeout-ms", "30000"]))
        {
            var results = await python.ReadAllJsonAsync(TimeSpan.FromMinutes(1));
            Assert.True(python.ExitCode == 0, $"broker_checks.py exited with {python.ExitCode}:\n{python.Output}");
            Assert.DoesNotContain("skipped", Assert.Single(results).GetProperty("detail").ToString(), StringComparison.Ordinal);
        }

        // Following the trailer: the second member joins where the group runs and gets its share.
        using var coordinator = GrpcChannel.ForAddress(subscribe.Trailers.GetValue(CoordinatorRedirect.MetadataKey)!);
        await using var second = await SubscribeSession.JoinAsync(coordinator, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => first.Shards.Count == 16 && second.Shards.Count == 16, "each member holds half", TimeSpan.FromSeconds(60));

        // Any broker takes produce requests; the group's broker delivers them.
        await new Producer.ProducerClient(b.Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 64).Select(i => Event("k" + i, "e" + i)))).ResponseAsync;
        await Wait.UntilAsync(() => first.Received.Count + second.Received.Count == 64, "every event was delivered");
        Assert.NotEmpty(first.Received);
        Assert.NotEmpty(second.Received);
        Assert.Null(first.Failure);
        Assert.Null(second.Failure);
    }

    [Fact]
    public async Task Killed_coordinator_hands_the_group_to_another_broker_once_its_lease_expired_and_nothing_is_lost()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(2));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(b.Channel);
        var subscription = Subscription(NewGroup(), [topic], StartPoint.Types.Kind.Earliest, session: Session);
        await ProduceAsync(b, topic, 0, 100);
        // Every poll is committed before the next one.
        var before = await PollUntilAsync(a.Channel, subscription, 40, TimeSpan.FromSeconds(30));
        Assert.Equal(a.Address, await cluster.CoordinatorOfAsync(subscription.Group));

        a.Kill();
        await a.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await ProduceAsync(b, topic, 100, 50);
        var after = new List<Event>();
        var redirects = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (before.Count + after.Count < 150 && DateTime.UtcNow < deadline)
        {
            try
            {
                after.AddRange(await PollUntilAsync(b.Channel, subscription, 150 - before.Count - after.Count, TimeSpan.FromSeconds(5)));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                // The dead broker's lease has not expired yet.
                AssertRedirectedTo(a, e);
                redirects++;
                await Task.Delay(100);
            }
        }

        var all = before.Concat(after).Select(e => e.Data.ToStringUtf8()).ToList();
        Assert.Equal(Enumerable.Range(0, 150).Select(i => "e" + i).Order(), all.Order());
        Assert.Empty(before.Select(e => e.EventId).Intersect(after.Select(e => e.EventId)));
        Assert.Equal(b.Address, await cluster.CoordinatorOfAsync(subscription.Group));
        Assert.True(redirects < 60, $"Redirected {redirects} times: the dead broker's lease should expire within 2 s.");
    }

    [Fact]
    public async Task Cleanly_stopped_coordinator_releases_its_lease_so_another_broker_takes_the_group_at_once()
    {
        // A lease far longer than the test: only the release lets the second broker in.
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromMinutes(5));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(a.Channel);
        var subscription = Subscription(NewGroup(), [topic], session: Session);
        var joined = await new Consumer.ConsumerClient(a.Channel).PollAsync(new PollRequest { Subscription = subscription, MaxWait = Duration.FromTimeSpan(TimeSpan.Zero) }).ResponseAsync;
        subscription.MemberId = joined.MemberId;
        Assert.Equal(a.Address, await cluster.CoordinatorOfAsync(subscription.Group));

        await a.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Null(await cluster.CoordinatorOfAsync(subscription.Group));
        await ProduceAsync(b, topic, 0, 10);
        var events = await PollUntilAsync(b.Channel, subscription, 10, TimeSpan.FromSeconds(30));
        Assert.Equal(10, events.Count);
        Assert.Equal(b.Address, await cluster.CoordinatorOfAsync(subscription.Group));
    }

    [Fact]
    public async Task Paused_coordinator_stops_the_group_when_it_wakes_to_find_another_broker_running_it()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(2));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(b.Channel);
        var group = NewGroup();
        await using var first = await SubscribeSession.JoinAsync(a.Channel, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => first.Shards.Count == 32, "the first member holds every shard");

        // Frozen with its connections open, as in a long pause: its lease runs out.
        a.Pause();
        try
        {
            SubscribeSession? second = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (second is null)
            {
                try
                {
                    second = await SubscribeSession.JoinAsync(b.Channel, Subscription(group, [topic], session: Session));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                }
            }
            await using (second)
            {
                Assert.Equal(b.Address, await cluster.CoordinatorOfAsync(group));
                // The paused member's leases expire; the slot the paused broker streamed is taken over.
                await Wait.UntilAsync(() => second.Shards.Count == 32, "the second member holds every shard", TimeSpan.FromSeconds(30));
                await ProduceAsync(b, topic, 0, 20);
                await Wait.UntilAsync(() => second.Received.Count == 20, "the second member received the events");

                a.Resume();
                await Wait.UntilAsync(() => a.Output.Contains("lost the coordinator lease", StringComparison.Ordinal), "the woken broker noticed");
                await Wait.UntilAsync(() => first.Failure is not null, "the woken broker ended its member's session");
                Assert.Equal(StatusCode.Unavailable, Assert.IsType<RpcException>(first.Failure).StatusCode);

                await ProduceAsync(b, topic, 20, 20);
                await Wait.UntilAsync(() => second.Received.Count == 40, "the second member keeps receiving");
                Assert.Equal(b.Address, await cluster.CoordinatorOfAsync(group));
                Assert.Empty(first.Received);
            }
        }
        finally
        {
            a.Resume();
        }
    }

    private static void AssertRedirectedTo(BrokerProcess coordinator, RpcException e)
    {
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains(coordinator.Address, e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(coordinator.Address, e.Trailers.GetValue(CoordinatorRedirect.MetadataKey));
    }

    private static string NewGroup() => "g-" + Guid.NewGuid().ToString("N");

    private static async Task ProduceAsync(BrokerProcess broker, string topic, int from, int count) =>
        await new Producer.ProducerClient(broker.Channel).ProduceAsync(Batch(topic, Enumerable.Range(from, count).Select(i => Event("k" + (i % 7), "e" + i)))).ResponseAsync;
}
