namespace EventStream.Broker.Consuming;

/// <summary>Makes a group's slot ready on a single PostgreSQL, before each connection streams it.</summary>
/// <remarks>
/// Creates it with the table read of the group's start point, finishes a table read a restart
/// interrupted, and recovers from a lost or invalidated slot by reading the table again.
/// </remarks>
internal sealed class SingleNodeSlotSetup(GroupStreamContext context)
{
    /// <summary>
    /// Creates the slot on the group's first start, reading the events the group starts with from
    /// the table under the snapshot the slot exports; after a restart that interrupted that read,
    /// finishes it without the snapshot.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var store = context.Store;
        var group = await store.LoadGroupAsync(context.Group, cancellationToken)
            ?? throw new InvalidOperationException($"Group {context.Group} was deleted.");
        var slot = context.SlotName;
        if (await GroupSlot.IsLostAsync(store.DataSource, slot, cancellationToken))
        {
            GroupLog.SlotInvalidated(context.Logger, context.Group, slot);
            await GroupSlot.DropAsync(store.DataSource, slot, cancellationToken);
        }
        var exists = await GroupSlot.ExistsAsync(store.DataSource, slot, cancellationToken);
        if (!exists && group.SlotCreatedAt is not null && group.BackfillDone)
        {
            group = await RecoverLostSlotAsync(group, cancellationToken);
        }
        var backfillFrom = group.BackfillDone ? null : group.BackfillFrom;
        if (!exists)
        {
            var node = (await context.Topology.GetAsync(refresh: false, cancellationToken)).Nodes[0];
            await using var created = await GroupSlot.CreateAsync(node.ConnectionString, slot, cancellationToken);
            GroupLog.SlotCreated(context.Logger, context.Group, slot, node.Id);
            await store.MarkSlotCreatedAsync(context.Group, cancellationToken);
            context.MarkSlotReady();
            if (backfillFrom is { } from)
            {
                var until = context.TimeProvider.GetUtcNow().UtcDateTime;
                await store.MarkBackfillStartedAsync(context.Group, until, cancellationToken);
                await GroupTableRead.ReadAsync(context, created.SnapshotName, from, until, _ => 0, cancellationToken);
                await store.MarkBackfillDoneAsync(context.Group, cancellationToken);
            }
            return;
        }
        context.MarkSlotReady();
        if (backfillFrom is { } restartFrom)
        {
            // A restart interrupted the table read and took the snapshot with it: read again up to
            // the slot's creation; events near the seam may come twice, none is missed.
            var until = (group.BackfillUntil ?? context.TimeProvider.GetUtcNow().UtcDateTime) + GroupTableRead.Margin;
            await GroupTableRead.ReadAsync(context, null, restartFrom, until, _ => 0, cancellationToken);
            await store.MarkBackfillDoneAsync(context.Group, cancellationToken);
        }
    }

    /// <summary>
    /// The slot of a group that had finished its table read is gone (failover to a standby, or
    /// dropped by someone): records that the group reads the table again from its committed
    /// positions, before the new slot is made.
    /// </summary>
    private async Task<GroupRow> RecoverLostSlotAsync(GroupRow group, CancellationToken cancellationToken)
    {
        var (topics, committed) = context.Queues.ClearForReread();
        var from = await ResumePoints.EarliestAsync(context.Store, group, topics, committed, context.Queues.ShardCount, cancellationToken);
        GroupLog.SlotLost(context.Logger, context.Group, from);
        await context.Store.MarkSlotLostAsync(context.Group, from, cancellationToken);
        return group with { BackfillFrom = from, BackfillUntil = null, BackfillDone = false };
    }
}
