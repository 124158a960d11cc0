namespace EventStream.Broker.Consuming;

/// <summary>The table read that fills a group's shard queues when it starts, or again after it lost its slot.</summary>
/// <remarks>Events after each shard's committed position, under the buffer budget like the streams.</remarks>
internal static class GroupTableRead
{
    // Clocks of brokers and database differ a little: a restarted table read goes this far past
    // the slot's creation, preferring repeats to gaps.
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reads the events from <paramref name="from"/> to <paramref name="until"/>, under the slot's
    /// snapshot when there is one; <paramref name="nodeOfShard"/> names each event's node.
    /// </summary>
    public static async Task ReadAsync(GroupStreamContext context, string? snapshot, DateTime from, DateTime until,
        Func<int, int> nodeOfShard, CancellationToken cancellationToken)
    {
        var queues = context.Queues;
        var (topics, committed) = queues.Committed();
        var resumeTimes = await ResumePoints.OfStreamedAsync(context.Store, topics, committed, cancellationToken);
        var count = 0;
        await foreach (var batch in BackfillReader.ReadAsync(context.Store.DataSource, snapshot, topics, from, until, committed, resumeTimes, cancellationToken))
        {
            await queues.WaitForRoomAsync(-1, cancellationToken);
            await queues.AppendAsync(batch.Select(e => e with { Position = e.Position with { Node = nodeOfShard(e.Shard) } }).ToList(), -1, cancellationToken);
            count += batch.Count;
        }
        GroupLog.BackfillRead(context.Logger, context.Group, count, snapshot is not null);
    }
}
