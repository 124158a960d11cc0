namespace EventStream.Broker.Consuming;

/// <summary>
/// Where a group reads the table again after losing its slot (a promoted standby has none of the
/// old primary's slots; an invalidated slot holds no WAL). A streamed position does not order
/// against table rows, so a shard resumes from a margin before its committed event's ingest
/// time, and a shard never committed from the group's start: duplicates are possible, loss is not.
/// </summary>
internal static class ResumePoints
{
    /// <summary>Brokers' clocks, and ingest versus commit order, differ by less than this.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);

    /// <summary>Every retained event.</summary>
    public static readonly DateTime Everything = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

    /// <summary>
    /// Resume times of the shards committed at a streamed position (commit LSN above 0); shards
    /// committed at a table position compare by event id, as a group's first read does.
    /// </summary>
    public static async Task<Dictionary<int, DateTime>> OfStreamedAsync(
        GroupStore store, int[] topicIds, IReadOnlyDictionary<int, EventPosition> committed, CancellationToken cancellationToken)
    {
        var streamed = committed.Where(c => c.Value.CommitLsn > 0).ToList();
        if (streamed.Count == 0)
        {
            return [];
        }
        var ingested = await store.IngestTimesAsync(topicIds, streamed.Select(c => c.Value.EventId).Distinct().ToArray(), cancellationToken);
        return streamed.ToDictionary(c => c.Key, c => Before(ingested, c.Value.EventId));
    }

    /// <summary>The earliest time any shard of the group must be read again from.</summary>
    public static async Task<DateTime> EarliestAsync(
        GroupStore store, GroupRow group, int[] topicIds, IReadOnlyDictionary<int, EventPosition> committed, int shardCount,
        CancellationToken cancellationToken)
    {
        var ingested = await store.IngestTimesAsync(topicIds, committed.Values.Select(p => p.EventId).Distinct().ToArray(), cancellationToken);
        var earliest = committed.Count < shardCount
            ? group.BackfillFrom ?? Subtract(group.CreatedAt)
            : DateTime.MaxValue;
        foreach (var position in committed.Values)
        {
            var from = Before(ingested, position.EventId);
            earliest = from < earliest ? from : earliest;
        }
        return DateTime.SpecifyKind(earliest, DateTimeKind.Utc);
    }

    // An event no longer stored (past retention): every event of its shard still stored is newer.
    private static DateTime Before(Dictionary<long, DateTime> ingested, long eventId) =>
        ingested.TryGetValue(eventId, out var time) ? Subtract(time) : Everything;

    private static DateTime Subtract(DateTime time) =>
        DateTime.SpecifyKind(time - Everything > Margin ? time - Margin : Everything, DateTimeKind.Utc);
}
