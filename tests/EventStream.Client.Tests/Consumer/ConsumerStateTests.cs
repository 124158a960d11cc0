using EventStream.Client.Consumer;
using EventStream.Protocol.V1;
using Google.Protobuf;

namespace EventStream.Client.Tests.Consumer;

/// <summary>What a consumer holds between the broker's pushes and the application, without a broker.</summary>
public class ConsumerStateTests
{
    [Fact]
    public void Events_come_out_in_arrival_order_under_the_epoch_they_arrived_with()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, epoch: 4), Lease(2, epoch: 7)]);
        state.OnEvents(Batch(1, 4, 10, 11));
        state.OnEvents(Batch(2, 7, 20));
        state.OnEvents(Batch(1, 4, 12));

        var taken = TakeAll(state);

        Assert.Equal([10L, 11, 20, 12], taken.Select(e => e.EventId));
        Assert.Equal([4L, 4, 7, 4], taken.Select(e => e.LeaseEpoch));
        Assert.Equal(0, state.Buffered);
    }

    [Fact]
    public void Revocation_drops_the_shards_buffered_events_and_is_reported_once()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 1), Lease(2, 1)]);
        Assert.True(state.TryTakeNotice(out var assigned));
        Assert.False(assigned.Revoked);
        Assert.Equal([1, 2], assigned.Shards);
        state.OnEvents(Batch(1, 1, 10, 11));
        state.OnEvents(Batch(2, 1, 20));

        Assert.Equal([1], state.OnRevoked([1, 1, 9]));
        Assert.Empty(state.OnRevoked([1]));
        state.OnEvents(Batch(1, 1, 12));

        Assert.Equal([20L], TakeAll(state).Select(e => e.EventId));
        Assert.True(state.TryTakeNotice(out var revoked));
        Assert.True(revoked.Revoked);
        Assert.Equal([1], revoked.Shards);
        Assert.False(state.TryTakeNotice(out _));
        Assert.Equal([2], state.Assignment);
    }

    [Fact]
    public void A_new_epoch_for_a_shard_drops_events_of_the_old_one_and_reports_it_lost_and_assigned()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(3, 1)]);
        state.OnEvents(Batch(3, 1, 30, 31));
        var old = state.TryTakeEvent()!;
        state.MarkProcessed(old);
        state.TryTakeNotice(out _);

        var (assigned, lost) = state.OnAssigned([Lease(3, 2, committed: 29)]);
        state.OnEvents(Batch(3, 1, 32));
        state.OnEvents(Batch(3, 2, 30, 31));

        Assert.Equal([3], assigned);
        Assert.Equal([3], lost);
        Assert.Equal([30L, 31], TakeAll(state).Select(e => e.EventId));
        // Progress made under the old lease cannot be committed under the new one.
        state.MarkProcessed(old);
        Assert.Empty(state.Uncommitted());
    }

    [Fact]
    public void Shards_missing_from_an_assignment_are_dropped_and_reported_lost_unless_already_revoked()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 1), Lease(2, 1), Lease(3, 1)]);
        state.OnRevoked([2]);
        state.OnEvents(Batch(3, 1, 30));

        var (_, lost) = state.OnAssigned([Lease(1, 1)]);

        Assert.Equal([3], lost);
        Assert.Null(state.TryTakeEvent());
        Assert.Equal([1], state.Assignment);
    }

    [Fact]
    public void Events_received_again_after_a_reconnect_are_not_returned_twice()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 1)]);
        state.OnEvents(Batch(1, 1, 10, 11));
        state.TryTakeEvent();

        state.OnEvents(Batch(1, 1, 10, 11, 12));

        Assert.Equal([11L, 12], TakeAll(state).Select(e => e.EventId));
    }

    [Fact]
    public void Only_processed_positions_ahead_of_the_committed_one_are_committed()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 5, committed: 9), Lease(2, 5)]);
        state.OnEvents(Batch(1, 5, 10, 11));
        state.OnEvents(Batch(2, 5, 20));
        var e10 = state.TryTakeEvent()!;
        state.TryTakeEvent();
        var e20 = state.TryTakeEvent()!;
        Assert.Empty(state.Uncommitted());

        state.MarkProcessed(e10);
        state.MarkProcessed(e20);
        var commits = state.Uncommitted();
        Assert.Equal([(1, 5L, 10L), (2, 5L, 20L)], commits.Select(c => (c.Shard, c.Epoch, c.Position.EventId)));
        Assert.Equal([2], state.Uncommitted([2]).Select(c => c.Shard));

        state.OnCommitted(commits[0]);
        Assert.Equal([2], state.Uncommitted().Select(c => c.Shard));
        Assert.Equal(10, state.CommittedOf(1)!.Value.EventId);
    }

    [Fact]
    public void After_a_shard_move_events_of_the_new_node_with_lower_lsns_are_received_processed_and_committed_in_delivery_order()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 1)]);
        state.OnEvents(BatchOn(1, 1, node: 1, 900, 901));
        state.OnEvents(BatchOn(1, 1, node: 2, 10, 11));
        // The old node's stream repeats itself after a reconnect: dropped; the new node's continue.
        state.OnEvents(BatchOn(1, 1, node: 1, 901));
        state.OnEvents(BatchOn(1, 1, node: 2, 11, 12));

        var taken = TakeAll(state);
        Assert.Equal([900L, 901, 10, 11, 12], taken.Select(e => e.EventId));

        state.MarkProcessed(taken[1]);
        var first = Assert.Single(state.Uncommitted());
        state.OnCommitted(first);
        state.MarkProcessed(taken[3]);
        // An older event marked late does not move the processed position back.
        state.MarkProcessed(taken[0]);
        var second = Assert.Single(state.Uncommitted());
        Assert.Equal((2, 11L), (second.Position.Node, second.Position.EventId));
        state.OnCommitted(second);
        Assert.Equal(11, state.CommittedOf(1)!.Value.EventId);
        Assert.Empty(state.Uncommitted());

        // A late answer to the first commit does not move the committed position back either.
        state.OnCommitted(first);
        Assert.Equal(2, state.CommittedOf(1)!.Value.Node);
    }

    [Fact]
    public void Taking_an_event_below_the_cap_signals_room()
    {
        var state = new ConsumerState(2);
        state.OnAssigned([Lease(1, 1)]);
        state.OnEvents(Batch(1, 1, 10, 11, 12));
        Assert.False(state.HasRoom);
        state.TryTakeEvent();
        Assert.False(state.HasRoom);
        state.TryTakeEvent();
        Assert.True(state.HasRoom);
    }

    [Fact]
    public void Events_of_a_lease_not_yet_assigned_are_taken_and_reported_as_assigned()
    {
        var state = new ConsumerState(100);
        state.OnEvents(Batch(4, 2, 40));

        Assert.Equal([40L], TakeAll(state).Select(e => e.EventId));
        Assert.True(state.TryTakeNotice(out var notice));
        Assert.False(notice.Revoked);
        Assert.Equal([4], notice.Shards);
    }

    [Fact]
    public void Auto_commit_is_due_early_once_enough_events_were_processed()
    {
        var state = new ConsumerState(ConsumerState.EagerCommitEvents + 10);
        state.OnAssigned([Lease(1, 1)]);
        state.OnEvents(Batch(1, 1, Enumerable.Range(1, ConsumerState.EagerCommitEvents).Select(i => (long)i).ToArray()));
        state.TryTakeNotice(out _);
        var events = TakeAll(state);

        foreach (var e in events.SkipLast(1))
        {
            state.MarkProcessed(e);
        }
        Assert.False(state.CommitDue.IsCompleted);
        state.MarkProcessed(events[^1]);
        Assert.True(state.CommitDue.IsCompleted);

        // Taking the commits starts the count again.
        Assert.Single(state.Uncommitted());
        Assert.False(state.CommitDue.IsCompleted);
    }

    [Fact]
    public void Events_read_again_from_the_table_after_streamed_ones_are_received_and_their_own_repeats_dropped()
    {
        var state = new ConsumerState(100);
        state.OnAssigned([Lease(1, 1)]);
        state.OnEvents(Batch(1, 1, 10, 11));
        // The group's slot was lost: the table is read again (commit LSN 0) from before event 10.
        state.OnEvents(TableBatch(1, 1, 9, 10, 11, 12));
        state.OnEvents(TableBatch(1, 1, 12));
        // Then the new slot streams what follows.
        state.OnEvents(Batch(1, 1, 13));

        Assert.Equal([10L, 11, 9, 10, 11, 12, 13], TakeAll(state).Select(e => e.EventId));
    }

    /// <summary>A batch as read from the table: commit LSN 0, ordered by event id.</summary>
    private static EventBatch TableBatch(int shard, long epoch, params long[] ids)
    {
        var batch = Batch(shard, epoch, ids);
        foreach (var e in batch.Events)
        {
            e.Position.CommitLsn = 0;
        }
        return batch;
    }

    private static List<ConsumedEvent> TakeAll(ConsumerState state)
    {
        var taken = new List<ConsumedEvent>();
        while (state.TryTakeEvent() is { } e)
        {
            taken.Add(e);
        }
        return taken;
    }

    private static ShardLease Lease(int shard, long epoch, long? committed = null)
    {
        var lease = new ShardLease { Shard = shard, Epoch = epoch };
        if (committed is { } id)
        {
            lease.Committed = new Position { CommitLsn = (ulong)id * 100, EventId = id };
        }
        return lease;
    }

    /// <summary>A batch whose positions follow the event ids (commit LSN = id × 100).</summary>
    private static EventBatch Batch(int shard, long epoch, params long[] ids) => BatchOn(shard, epoch, 0, ids);

    /// <summary>A batch of one node whose positions follow the event ids (commit LSN = id × 100).</summary>
    private static EventBatch BatchOn(int shard, long epoch, int node, params long[] ids)
    {
        var batch = new EventBatch { Shard = shard, Epoch = epoch };
        foreach (var id in ids)
        {
            batch.Events.Add(new Event
            {
                Topic = "t",
                Shard = shard,
                EventId = id,
                Data = ByteString.CopyFromUtf8("e" + id),
                Position = new Position { Node = node, CommitLsn = (ulong)id * 100, EventId = id },
            });
        }
        return batch;
    }
}
