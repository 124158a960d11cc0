using System.Collections.Concurrent;
using System.Diagnostics;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>Members of one group sharing shards, on the real broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class GroupTests(BrokerFixture broker)
{
    [Fact]
    public async Task Two_members_end_up_with_half_the_shards_each_and_the_callbacks_report_every_move()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        var aAssigned = new ConcurrentQueue<int>();
        var aRevoked = new ConcurrentQueue<int>();
        var bAssigned = new ConcurrentQueue<int>();
        await using var a = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, o =>
        {
            o.ShardsAssigned = Record(aAssigned);
            o.ShardsRevoked = Record(aRevoked);
        })));
        await Wait.UntilAsync(() => aAssigned.Count == 32, "the first member was told it holds every shard");

        await using var b = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, o => o.ShardsAssigned = Record(bAssigned))));
        await Wait.UntilAsync(() => a.Consumer.Assignment.Count == 16 && b.Consumer.Assignment.Count == 16, "each member holds half", TimeSpan.FromSeconds(90));

        Assert.Empty(a.Consumer.Assignment.Intersect(b.Consumer.Assignment));
        Assert.Equal(Enumerable.Range(0, 32), aAssigned.Order());
        await Wait.UntilAsync(() => aRevoked.Count == 16 && bAssigned.Count == 16, "the callbacks caught up");
        Assert.Equal(b.Consumer.Assignment, aRevoked.Order());
        Assert.Equal(b.Consumer.Assignment, bAssigned.Order());
        Assert.Null(a.Failure);
        Assert.Null(b.Failure);
    }

    [Fact]
    public async Task A_disposed_member_leaves_so_the_other_gets_its_shards_long_before_the_session_timeout()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        void Slow(EventStreamConsumerOptions o)
        {
            o.SessionTimeout = TimeSpan.FromSeconds(30);
            o.HeartbeatInterval = TimeSpan.FromSeconds(10);
        }
        var a = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, Slow)));
        await Wait.UntilAsync(() => a.Consumer.Assignment.Count == 32, "the first member holds every shard");
        await using var b = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, Slow)));
        await Wait.UntilAsync(() => b.Consumer.IsJoined, "the second member joined");

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        var leaving = clock.Elapsed;
        await Wait.UntilAsync(() => b.Consumer.Assignment.Count == 32, "the second member holds every shard", TimeSpan.FromSeconds(25));

        // The broker balances a 30 s member every 10 s: the shards move at its next round, not on expiry.
        Assert.True(leaving < TimeSpan.FromSeconds(5), $"Leaving took {leaving}.");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"The shards moved after {clock.Elapsed}.");
        Assert.Null(a.Failure);
    }

    private static Func<IReadOnlyList<int>, CancellationToken, Task> Record(ConcurrentQueue<int> into) => (shards, _) =>
    {
        foreach (var shard in shards)
        {
            into.Enqueue(shard);
        }
        return Task.CompletedTask;
    };
}
