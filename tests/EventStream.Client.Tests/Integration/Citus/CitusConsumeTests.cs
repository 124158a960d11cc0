using EventStream.Protocol.V1;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration.Citus;

/// <summary>Produce and consume on a Citus cluster: rows on the worker holding their shard, one slot per (group, node), shard moves.</summary>
[Collection(CitusBrokerCollection.Name)]
public sealed class CitusConsumeTests(CitusBrokerFixture cluster)
{
    [CitusFact]
    public async Task Keyed_events_are_stored_on_the_worker_holding_their_shard_and_consumed_from_both_workers_in_key_order()
    {
        var topic = await cluster.CreateTopicAsync();
        var group = "g-" + Guid.NewGuid().ToString("N");
        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the consumer holds every shard", TimeSpan.FromSeconds(60));
        var workers = await cluster.WorkersAsync();
        foreach (var (_, port) in workers)
        {
            var slots = await cluster.QueryAsync(cluster.NodeConnectionString(port), "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'eventstream_%'");
            Assert.True((long)slots[0][0]! >= 1, $"The worker on port {port} has the group's slot.");
        }

        await using var producer = cluster.CreateProducer();
        var produced = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(50), perKey: 40);
        await Wait.UntilAsync(() => consumer.Received.Count >= produced.Count, "every event arrived", TimeSpan.FromSeconds(60));

        Assert.Null(consumer.Failure);
        Assert.Equal(produced.Select(d => d.EventId).Order(), consumer.Received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(consumer.Received);
        var workerIds = workers.Select(w => w.Id).ToHashSet();
        Assert.Equal(workerIds, consumer.Received.Select(e => e.Position.Node).ToHashSet());

        // Each shard's rows are on the worker holding its placement, in its shard table there.
        var topicId = (int)(await cluster.QueryAsync(cluster.Coordinator, "SELECT topic_id FROM eventstream.topics WHERE name = $1", topic))[0][0]!;
        var placements = await cluster.PlacementsAsync();
        long stored = 0;
        foreach (var (shard, (shardId, port)) in placements)
        {
            var rows = await cluster.QueryAsync(cluster.NodeConnectionString(port),
                $"SELECT count(*) FROM eventstream.events_{shardId} WHERE topic_id = $1 AND shard = $2", topicId, shard);
            var expected = produced.Count(d => d.Shard == shard);
            Assert.Equal(expected, (long)rows[0][0]!);
            stored += expected;
            var other = workers.Single(w => w.Port != port).Port;
            var elsewhere = await cluster.QueryAsync(cluster.NodeConnectionString(other),
                "SELECT count(*) FROM pg_class WHERE relname = $1", $"events_{shardId}");
            Assert.Equal(0L, (long)elsewhere[0][0]!);
        }
        Assert.Equal(produced.Count, stored);
    }

    [CitusFact]
    public async Task Moving_shards_while_producing_and_consuming_loses_nothing_keeps_key_order_and_commits_and_drops_the_emptied_workers_slot()
    {
        var topic = await cluster.CreateTopicAsync();
        var group = "g-" + Guid.NewGuid().ToString("N");
        var keys = Keyed.Keys(64);
        var consumer = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the consumer holds every shard", TimeSpan.FromSeconds(60));
        await using var producer = cluster.CreateProducer();
        var produced = await Keyed.ProduceAsync(producer, topic, keys, perKey: 10);
        await Wait.UntilAsync(() => consumer.Received.Count >= produced.Count, "the first events arrived", TimeSpan.FromSeconds(60));

        // Empty the second worker while producing: no new shards for it, then its shards go to the first.
        var workers = await cluster.WorkersAsync();
        var (keep, empty) = (workers[0], workers[1]);
        await cluster.QueryAsync(cluster.Coordinator, "SELECT citus_set_node_property('127.0.0.1', $1, 'shouldhaveshards', false)", empty.Port);
        var producing = Task.Run(async () =>
        {
            var results = new List<DeliveryResult>();
            for (var round = 0; round < 20; round++)
            {
                results.AddRange(await Keyed.ProduceAsync(producer, topic, keys, perKey: 2, firstSequence: 10 + round * 2, pause: TimeSpan.FromMilliseconds(100)));
            }
            return results;
        });
        var moved = (await cluster.PlacementsAsync()).Where(p => p.Value.Port == empty.Port).ToList();
        Assert.NotEmpty(moved);
        foreach (var (_, (shardId, _)) in moved)
        {
            await cluster.MoveAsync(shardId, empty.Port, keep.Port);
        }
        produced.AddRange(await producing);
        var after = await Keyed.ProduceAsync(producer, topic, keys, perKey: 5, firstSequence: 50);
        produced.AddRange(after);

        await Wait.UntilAsync(() => consumer.Received.Select(e => e.EventId).Distinct().Count() >= produced.Count,
            "every event produced around the moves arrived", TimeSpan.FromSeconds(90));
        Assert.Null(consumer.Failure);
        var received = consumer.Received.ToList();
        Assert.Empty(produced.Select(d => d.EventId).Except(received.Select(e => e.EventId)));
        Keyed.AssertOrderedPerKey(received);
        // The moved shards' last events came from the first worker.
        foreach (var (shard, _) in moved)
        {
            var last = received.Where(e => e.Shard == shard).ToList();
            if (last.Count > 0)
            {
                Assert.Equal(keep.Id, last[^1].Position.Node);
            }
        }

        // The broker followed the moves (rather than delivering from both nodes unordered).
        Assert.Contains($"moved from node {empty.Id} to node {keep.Id}", cluster.Process.Output);

        // The emptied worker's slot goes once its stream is drained and committed.
        var emptied = cluster.NodeConnectionString(empty.Port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((long)(await cluster.QueryAsync(emptied, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'eventstream_%'"))[0][0]! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The slot on the worker left without shards was not dropped.");
            await Task.Delay(250);
        }

        // Commits made before and after the moves hold: a restarted member gets only what is new.
        await consumer.DisposeAsync();
        var description = await new Admin.AdminClient(cluster.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group });
        Assert.All(description.Shards.Where(s => s.Committed is not null), s => Assert.Equal(keep.Id, s.Committed.Node));
        var newer = await Keyed.ProduceAsync(producer, topic, keys, perKey: 2, firstSequence: 55);
        var second = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => second.Received.Count >= newer.Count, "the events produced after the restart arrived", TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        Assert.Equal(newer.Select(d => d.EventId).Order(), second.Received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(second.Received);

        await second.DisposeAsync();

        // The second worker may hold shards again: the running group makes its slot there before
        // shards move back (a node must have the slot before it receives shards).
        await cluster.QueryAsync(cluster.Coordinator, "SELECT citus_set_node_property('127.0.0.1', $1, 'shouldhaveshards', true)", empty.Port);
        await Wait.UntilAsync(() => SlotCount(emptied) > 0, "the group has a slot on the second worker again", TimeSpan.FromSeconds(30));
        foreach (var (_, (shardId, _)) in moved)
        {
            await cluster.MoveAsync(shardId, keep.Port, empty.Port);
        }

        // A broker restart after the moves back: each shard starts from its committed node and
        // switches to its current one; nothing committed comes again, nothing new is missed.
        var beforeRestart = await Keyed.ProduceAsync(producer, topic, keys, perKey: 2, firstSequence: 57);
        await cluster.RestartAsync();
        await using var restartedProducer = cluster.CreateProducer();
        var afterRestart = await Keyed.ProduceAsync(restartedProducer, topic, keys, perKey: 2, firstSequence: 59);
        await using var third = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        var expected = beforeRestart.Concat(afterRestart).Select(d => d.EventId).Order().ToList();
        await Wait.UntilAsync(() => third.Received.Count >= expected.Count, "the events produced around the restart arrived", TimeSpan.FromSeconds(90));
        await Task.Delay(500);
        Assert.Equal(expected, third.Received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(third.Received);
        Assert.Contains(third.Received, e => e.Position.Node == empty.Id);
    }

    [CitusFact]
    public async Task A_group_that_runs_nowhere_keeps_its_slots_and_orphaned_slots_go()
    {
        var topic = await cluster.CreateTopicAsync();
        var group = "g-" + Guid.NewGuid().ToString("N");
        var first = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => first.Consumer.Assignment.Count == 32, "the consumer holds every shard", TimeSpan.FromSeconds(60));
        await first.DisposeAsync();
        // After a restart the group runs nowhere until a member joins.
        await cluster.RestartAsync();

        // A worker without the group's slot (as a worker added meanwhile would be) gets it anyway.
        var workers = await cluster.WorkersAsync();
        var worker = cluster.NodeConnectionString(workers[1].Port);
        var slot = "eventstream_" + group.Replace('-', '_')[..32] + "_%";
        await cluster.QueryAsync(worker, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1", slot);
        await Wait.UntilAsync(() => Count(worker, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE $1", slot) == 1,
            "the group's slot is back on the worker", TimeSpan.FromSeconds(30));

        // What the worker stores from then on reaches the group when it runs again.
        await using var producer = cluster.CreateProducer();
        var produced = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(64), perKey: 5);
        await using var second = new BackgroundConsumer(new EventStreamConsumer(cluster.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => second.Received.Count >= produced.Count, "the events produced while the group ran nowhere arrived", TimeSpan.FromSeconds(90));
        Assert.Empty(produced.Select(d => d.EventId).Except(second.Received.Select(e => e.EventId)));
        Assert.Contains(second.Received, e => e.Position.Node == workers[1].Id);

        // A slot no group claims (its group deleted while a slot was being made) is dropped.
        await cluster.QueryAsync(worker, "SELECT pg_create_logical_replication_slot('eventstream_deleted_group_0123456789ab', 'pgoutput')");
        await Wait.UntilAsync(() => Count(worker, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'eventstream_deleted_group_0123456789ab'") == 0,
            "the orphaned slot is dropped", TimeSpan.FromSeconds(30));
    }

    private long Count(string node, string sql, params object[] parameters) =>
        (long)cluster.QueryAsync(node, sql, parameters).GetAwaiter().GetResult()[0][0]!;

    private long SlotCount(string node) =>
        (long)cluster.QueryAsync(node, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'eventstream_%'").GetAwaiter().GetResult()[0][0]!;
}
