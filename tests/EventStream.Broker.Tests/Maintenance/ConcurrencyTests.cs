using EventStream.Broker.Maintenance;
using Npgsql;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>Maintenance runs racing each other and producers.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrencyTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Concurrent_runs_do_not_fail_and_do_the_work_once()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var shortLived = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
        var longLived = await db.CreateTopicAsync(TimeSpan.FromDays(2), ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(3), ct);
        await db.InsertEventsAsync(shortLived, TimeSpan.FromHours(30), ct, count: 5000);
        await db.InsertEventsAsync(longLived, TimeSpan.FromHours(30), ct, count: 10);
        var droppable = await db.ScalarAsync<long>(
            "SELECT count(*) FROM eventstream.event_partitions() WHERE upper_bound <= now() - interval '2 days'", ct);

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var summaries = new List<MaintenanceSummary>();
            for (var i = 0; i < 3; i++)
            {
                await using var command = db.DataSource.CreateCommand("SELECT eventstream.run_maintenance()");
                summaries.Add(MaintenanceSummary.Parse((string)(await command.ExecuteScalarAsync(ct))!));
            }

            return summaries;
        }, ct)));

        var all = runs.SelectMany(r => r).ToList();
        Assert.Contains(all, s => !s.Skipped);
        Assert.Equal(5000, all.Sum(s => s.RowsDeleted));
        var dropped = all.SelectMany(s => s.PartitionsDropped).ToList();
        Assert.Equal(droppable, dropped.Count);
        Assert.Equal(dropped.Count, dropped.Distinct().Count());
        Assert.Equal(10, await db.CountEventsAsync(longLived, ct));
    }

    [Fact]
    public async Task A_run_while_another_holds_the_lock_is_skipped_at_once()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        await using var holder = await db.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await holder.BeginTransactionAsync(ct);
        await using (var first = new NpgsqlCommand("SELECT eventstream.run_maintenance()", holder, transaction))
        {
            Assert.False(MaintenanceSummary.Parse((string)(await first.ExecuteScalarAsync(ct))!).Skipped);
        }

        await using var second = db.DataSource.CreateCommand("SELECT eventstream.run_maintenance()");
        Assert.True(MaintenanceSummary.Parse((string)(await second.ExecuteScalarAsync(ct))!).Skipped);
        await transaction.CommitAsync(ct);
    }

    [Fact]
    public async Task Producers_keep_inserting_while_partitions_are_dropped()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var topic = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var produced = 0;
        var producer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await db.InsertEventsAsync(topic, TimeSpan.Zero, ct, count: 10);
                produced += 10;
            }
        }, ct);

        var dropped = 0;
        for (var i = 0; i < 5; i++)
        {
            await db.EnsurePartitionsAsync(TimeSpan.FromDays(1), ct);
            dropped += (await db.RunRoundAsync(ct)).PartitionsDropped.Count;
        }

        await stop.CancelAsync();
        await producer;
        Assert.True(dropped >= 5 * 20, $"dropped {dropped} partitions");
        Assert.Equal(produced, await db.CountEventsAsync(topic, ct));
    }
}
