namespace EventStream.Broker.Tests.Maintenance;

/// <summary>Per-topic retention enforced by the broker's own maintenance round (no pg_cron).</summary>
[Collection(PostgresCollection.Name)]
public sealed class RetentionTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    [Fact]
    public async Task Broker_round_deletes_events_past_their_topic_retention_and_keeps_the_rest()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var shortLived = await db.CreateTopicAsync(TimeSpan.FromHours(2), ct);
        var longLived = await db.CreateTopicAsync(Week, ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(2), ct);
        await db.InsertEventsAsync(shortLived, TimeSpan.FromHours(30), ct, count: 3);
        await db.InsertEventsAsync(shortLived, TimeSpan.FromMinutes(20), ct, count: 2);
        await db.InsertEventsAsync(longLived, TimeSpan.FromHours(30), ct, count: 4);

        var summary = await db.RunRoundAsync(ct);

        Assert.True(summary.Complete);
        Assert.Equal(3, summary.RowsDeleted);
        Assert.Equal(3, summary.RowsDeletedByTopic[shortLived]);
        Assert.Empty(summary.PartitionsDropped);
        Assert.Equal(2, await db.CountEventsAsync(shortLived, ct));
        Assert.Equal(4, await db.CountEventsAsync(longLived, ct));

        var again = await db.RunRoundAsync(ct);
        Assert.Equal(0, again.RowsDeleted);
        Assert.Equal(0, again.PartitionsSwept);
    }

    [Fact]
    public async Task Shortened_retention_reaches_partitions_swept_before()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var hourly = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
        var shortened = await db.CreateTopicAsync(Week, ct);
        await db.CreateTopicAsync(Week, ct); // keeps the partitions from being dropped
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(2), ct);
        await db.InsertEventsAsync(hourly, TimeSpan.FromHours(30), ct);
        await db.InsertEventsAsync(shortened, TimeSpan.FromHours(30), ct, count: 2);
        await db.InsertEventsAsync(shortened, TimeSpan.FromMinutes(20), ct);
        Assert.Equal(1, (await db.RunRoundAsync(ct)).RowsDeleted);

        await db.ExecuteAsync("UPDATE eventstream.topics SET retention = '1 day' WHERE topic_id = $1", ct, shortened);
        var beforeSettling = await db.RunRoundAsync(ct);
        await db.AgeBookkeepingAsync(TimeSpan.FromMinutes(10), ct);
        var afterSettling = await db.RunRoundAsync(ct);

        Assert.Equal(0, beforeSettling.RowsDeleted);
        Assert.Equal(2, afterSettling.RowsDeletedByTopic[shortened]);
        Assert.Equal(1, await db.CountEventsAsync(shortened, ct));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM eventstream.topic_expiry_changes", ct));
    }

    [Fact]
    public async Task Deletes_come_in_batches_bounded_by_the_time_budget()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var shortLived = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
        var longLived = await db.CreateTopicAsync(Week, ct);
        // The events' partition is the oldest, so the first call meets them.
        await db.EnsurePartitionsAsync(TimeSpan.FromHours(5), ct);
        await db.InsertEventsAsync(shortLived, TimeSpan.FromHours(5), ct, count: 250);
        await db.InsertEventsAsync(longLived, TimeSpan.FromHours(5), ct, count: 10);

        // A zero budget still makes progress: one batch (or one empty partition) per call.
        var calls = new List<(long Deleted, bool Complete)>();
        do
        {
            var json = await db.ScalarAsync<string>("SELECT eventstream.expire_events(batch_size => 100, time_budget => '0')::text", ct);
            using var result = System.Text.Json.JsonDocument.Parse(json);
            calls.Add((result.RootElement.GetProperty("rows_deleted").GetInt64(), result.RootElement.GetProperty("complete").GetBoolean()));
        }
        while (!calls[^1].Complete && calls.Count < 100);

        Assert.True(calls[^1].Complete);
        Assert.Equal((100L, false), calls[0]);
        Assert.All(calls, c => Assert.InRange(c.Deleted, 0, 100));
        Assert.Equal(250, calls.Sum(c => c.Deleted));
        Assert.Equal(0, await db.CountEventsAsync(shortLived, ct));
        Assert.Equal(10, await db.CountEventsAsync(longLived, ct));
    }
}
