namespace EventStream.Broker.Tests.Maintenance;

/// <summary>Whole partitions go once every topic's retention has passed them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PartitionDropTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Partitions_older_than_the_longest_retention_are_dropped_and_younger_ones_kept()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        var oneDay = await db.CreateTopicAsync(TimeSpan.FromDays(1), ct);
        var twoDays = await db.CreateTopicAsync(TimeSpan.FromDays(2), ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(3), ct);
        var old = (await db.PartitionHoldingAsync(TimeSpan.FromHours(60), ct))!;
        var live = (await db.PartitionHoldingAsync(TimeSpan.FromHours(40), ct))!;
        await db.InsertEventsAsync(twoDays, TimeSpan.FromHours(60), ct);
        await db.InsertEventsAsync(twoDays, TimeSpan.FromHours(40), ct);
        await db.InsertEventsAsync(oneDay, TimeSpan.FromHours(40), ct);

        var summary = await db.RunRoundAsync(ct);

        Assert.Contains(old, summary.PartitionsDropped);
        Assert.False(await db.PartitionExistsAsync(old, ct));
        Assert.True(await db.PartitionExistsAsync(live, ct));
        Assert.True(await db.ScalarAsync<bool>(
            "SELECT min(upper_bound) > now() - interval '2 days' FROM eventstream.event_partitions()", ct));
        Assert.Equal(1, await db.CountEventsAsync(twoDays, ct));
        Assert.Equal(0, await db.CountEventsAsync(oneDay, ct));
    }

    [Fact]
    public async Task Without_topics_only_the_last_hour_of_partitions_is_kept()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CreateAsync(fixture, ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(1), ct);
        var current = (await db.PartitionHoldingAsync(TimeSpan.FromMinutes(30), ct))!;

        var summary = await db.RunRoundAsync(ct);

        Assert.NotEmpty(summary.PartitionsDropped);
        Assert.Equal(0L, await db.ScalarAsync<long>(
            "SELECT count(*) FROM eventstream.event_partitions() WHERE upper_bound <= now() - interval '1 hour'", ct));
        Assert.True(await db.PartitionExistsAsync(current, ct));
    }
}
