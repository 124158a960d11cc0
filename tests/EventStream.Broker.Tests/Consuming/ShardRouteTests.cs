using EventStream.Broker.Consuming;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>A shard's switch between nodes after a move, and its queue across nodes, without a database.</summary>
public class ShardRouteTests
{
    [Fact]
    public void The_new_nodes_events_wait_until_the_old_node_passed_its_barrier()
    {
        var route = new ShardRoute();
        route.Start(1);
        Assert.Equal(RouteDecision.Deliver, route.Decide(Event(1, 500), 1));

        route.SwitchTo(2, new Dictionary<int, ulong> { [1] = 1000 });
        Assert.Equal(RouteDecision.Hold, route.Decide(Event(2, 10), 2));
        route.Hold(Event(2, 10), 2);
        Assert.Equal(RouteDecision.Deliver, route.Decide(Event(1, 600), 1));
        Assert.Equal(10UL, route.OldestHeldLsn(2));

        Assert.False(route.BarrierPassed(1, 900));
        Assert.True(route.BarrierPassed(1, 1000));
        var released = route.Complete();

        Assert.Equal([10UL], released.Select(e => e.Position.CommitLsn));
        Assert.Equal(2, route.Current);
        Assert.Equal(0, route.HeldCount);
        // The old node repeating itself after a reconnect: older, dropped.
        Assert.Equal(RouteDecision.Drop, route.Decide(Event(1, 600), 1));
        // The old node past the barrier: the shard moved back, hold until the topology says so.
        Assert.Equal(RouteDecision.Hold, route.Decide(Event(1, 2000), 1));
    }

    [Fact]
    public void Events_of_a_node_the_shard_was_not_known_to_be_on_are_held_and_dropped_when_the_topology_disagrees()
    {
        var route = new ShardRoute();
        route.Start(1);
        Assert.Equal(RouteDecision.Hold, route.Decide(Event(3, 5), 3));
        route.Hold(Event(3, 5), 3);
        Assert.True(route.HoldsStrays);

        Assert.Equal((1, 96L + 1), route.DropStrays(placed: 1));
        Assert.False(route.HoldsStrays);
        Assert.Null(route.OldestHeldLsn(3));
    }

    [Fact]
    public void Commit_removes_events_up_to_the_committed_one_in_queue_order_across_nodes()
    {
        var queue = new ShardQueue(0);
        Assert.True(queue.TryAppend(Event(1, 900)));
        Assert.True(queue.TryAppend(Event(1, 901)));
        Assert.True(queue.TryAppend(Event(2, 10)));
        Assert.True(queue.TryAppend(Event(2, 11)));
        // Repeats of a node's stream are recognised per node.
        Assert.False(queue.TryAppend(Event(1, 901)));
        Assert.False(queue.TryAppend(Event(2, 10)));

        var (removed, _) = queue.Commit(Event(2, 10).Position);

        Assert.Equal(3, removed);
        Assert.Equal(1, queue.Count);
        Assert.Null(queue.OldestStreamedLsn(1));
        Assert.Equal(11UL, queue.OldestStreamedLsn(2));
        Assert.Equal(2, queue.Committed!.Value.Node);
        // The committed node's older events are skipped; another node's are not compared.
        Assert.False(queue.TryAppend(Event(2, 9)));
    }

    private static StreamedEvent Event(int node, ulong lsn) =>
        new(1, 0, (long)lsn, DateTime.UtcNow, null, null, [1], null, null, new EventPosition(lsn, 0, (long)lsn) { Node = node });
}
