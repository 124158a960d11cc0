using EventStream.Broker.Consuming;
using EventStream.Broker.Tests.Producing;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Npgsql;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>
/// A group whose replication slot is lost gets a new one and reads again from the table what
/// followed its committed positions: nothing is lost, and the loss shows in the log and in the
/// group's description.
/// </summary>
public sealed class SlotRecoveryTests
{
    [Fact]
    public async Task A_group_whose_slot_was_invalidated_while_stopped_reads_again_from_the_table_and_loses_nothing()
    {
        using var directory = new TestDirectory();
        await using var broker = BrokerProcess.Start(new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = directory.Path,
            ["EventStream__Embedded__MaxSlotWalKeepSize"] = "16MB",
            ["EventStream__Consume__IdleGroupTimeout"] = "00:00:01",
        });
        await broker.WaitUntilServingAsync();
        await using var database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(directory.Path));
        var topic = await ProduceClient.CreateTopicAsync(broker.Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await using (var first = await SubscribeSession.JoinAsync(broker.Channel, Subscription(group, [topic])))
        {
            await Wait.UntilAsync(() => first.Shards.Count == 32, "the member holds every shard", TimeSpan.FromSeconds(60));
            await Produce(broker, topic, "before", 100);
            await Wait.UntilAsync(() => first.Received.Count >= 100, "the first events arrived", TimeSpan.FromSeconds(60));
            await first.CommitReceivedAsync();
            var shards = first.Received.Select(r => r.Event.Shard).Distinct().Count();
            await WaitForAsync(database, "SELECT count(*) = $2 FROM eventstream.positions WHERE consumer_group = $1", "the commits are stored", group, (long)shards);
            await first.LeaveAsync();
        }
        var slot = SlotNames.ForGroup(group);
        await WaitForAsync(database, "SELECT NOT active FROM pg_replication_slots WHERE slot_name = $1", "the group stopped streaming", slot);

        // Produced while the group is stopped, then far more WAL than its slot may keep.
        await Produce(broker, topic, "while-stopped", 100);
        await ExecuteAsync(database, "CREATE TABLE filler AS SELECT repeat('x', 1000) AS x FROM generate_series(1, 40000)");
        await ExecuteAsync(database, "DROP TABLE filler");
        await WaitForAsync(database,
            "SELECT wal_status = 'lost' FROM pg_replication_slots WHERE slot_name = $1",
            "the slot is invalidated", slot, checkpoint: true);

        await using var second = await SubscribeSession.JoinAsync(broker.Channel, Subscription(group, [topic]));
        var expected = Enumerable.Range(0, 100).Select(i => "while-stopped" + i).ToHashSet();
        await Wait.UntilAsync(() => expected.IsSubsetOf(second.Received.Select(r => r.Event.Data.ToStringUtf8())),
            "the events produced while the group was stopped arrived", TimeSpan.FromSeconds(60));

        Assert.Contains("was invalidated", broker.Output, StringComparison.Ordinal);
        Assert.Contains("its replication slot is gone", broker.Output, StringComparison.Ordinal);
        var described = await new Admin.AdminClient(broker.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group });
        Assert.NotNull(described.SlotRecreatedAt);
        Assert.Null(second.Failure);
    }

    private static async Task Produce(BrokerProcess broker, string topic, string prefix, int count) =>
        await new Producer.ProducerClient(broker.Channel).ProduceAsync(
            ProduceClient.Batch(topic, Enumerable.Range(0, count).Select(i => ProduceClient.Event("k" + i, prefix + i))));

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestTimeout.Token());
    }

    /// <summary>Asks until the query answers true; with <paramref name="checkpoint"/>, a checkpoint between tries.</summary>
    private static async Task WaitForAsync(NpgsqlDataSource database, string sql, string what, object parameter, object? second = null, bool checkpoint = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (checkpoint)
            {
                await ExecuteAsync(database, "SELECT pg_switch_wal()");
                await ExecuteAsync(database, "CHECKPOINT");
            }
            await using var command = database.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
            if (second is not null)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = second });
            }
            if (await command.ExecuteScalarAsync(TestTimeout.Token()) is true)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting: {what}.");
            await Task.Delay(100);
        }
    }
}
