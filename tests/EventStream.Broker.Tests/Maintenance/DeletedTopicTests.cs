namespace EventStream.Broker.Tests.Maintenance;

/// <summary>Rows and producer state of deleted topics, and idle producers.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DeletedTopicTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    [Fact]
    public async Task Deleted_topic_rows_are_purged_from_every_partition_once_the_deletion_settled()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var deleted = await db.CreateTopicAsync(Week, ct);
        var kept = await db.CreateTopicAsync(Week, ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(2), ct);
        foreach (var age in new[] { TimeSpan.FromHours(30), TimeSpan.FromMinutes(5) })
        {
            await db.InsertEventsAsync(deleted, age, ct, count: 2);
            await db.InsertEventsAsync(kept, age, ct);
        }

        await db.ExecuteAsync("DELETE FROM eventstream.topics WHERE topic_id = $1", ct, deleted);
        var beforeSettling = await db.RunRoundAsync(ct);
        await db.AgeBookkeepingAsync(TimeSpan.FromMinutes(10), ct);
        var afterSettling = await db.RunRoundAsync(ct);

        // Writes to the topic may still have been in flight just after the deletion.
        Assert.Equal(0, beforeSettling.RowsDeleted);
        Assert.Equal(4, afterSettling.RowsDeletedByTopic[deleted]);
        Assert.Equal(0, await db.CountEventsAsync(deleted, ct));
        Assert.Equal(2, await db.CountEventsAsync(kept, ct));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM eventstream.topic_expiry_changes", ct));
    }

    [Fact]
    public async Task Idle_producers_and_producers_of_deleted_topics_are_forgotten()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var topic = await db.CreateTopicAsync(Week, ct);
        var deleted = await db.CreateTopicAsync(Week, ct);
        const string Insert = "INSERT INTO eventstream.producer_sequences (producer_id, topic_id, next_sequence, updated_at) VALUES ($1, $2, 1, now() - $3::interval)";
        await db.ExecuteAsync(Insert, ct, "idle", topic, TimeSpan.FromDays(8));
        await db.ExecuteAsync(Insert, ct, "recent", topic, TimeSpan.FromDays(6));
        await db.ExecuteAsync(Insert, ct, "orphan", deleted, TimeSpan.Zero);
        await db.ExecuteAsync("DELETE FROM eventstream.topics WHERE topic_id = $1", ct, deleted);

        var summary = await db.RunRoundAsync(ct);

        Assert.Equal(2, summary.ProducersExpired);
        Assert.Equal("recent", await db.ScalarAsync<string>("SELECT string_agg(producer_id, ',') FROM eventstream.producer_sequences", ct));
    }
}
