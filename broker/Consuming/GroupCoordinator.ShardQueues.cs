namespace EventStream.Broker.Consuming;

/// <summary>The coordinator's side of slot streaming (<see cref="IShardQueues"/>), each call under the lock.</summary>
internal sealed partial class GroupCoordinator : IShardQueues
{
    int IShardQueues.ShardCount => _shards.Length;

    async Task<bool> IShardQueues.AppendAsync(IReadOnlyList<StreamedEvent> events, int node, CancellationToken cancellationToken)
    {
        await _topics.LearnAsync(events, cancellationToken);
        var stray = false;
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (!_topics.Reads(e.TopicId) || e.Shard < 0 || e.Shard >= _shards.Length)
                {
                    continue;
                }
                var queue = _shards[e.Shard];
                var decision = node < 0 ? RouteDecision.Deliver : queue.Route.Decide(e, node);
                if (decision == RouteDecision.Deliver)
                {
                    Deliver(queue, e);
                }
                else if (decision == RouteDecision.Hold)
                {
                    queue.Route.Hold(e, node);
                    _budget.Hold(node);
                    // Not from the node being switched to: a move this broker has not seen yet.
                    stray |= queue.Route.Target != node;
                }
            }
        }
        return stray;
    }

    /// <summary>
    /// Backpressure: while the group holds its cap of uncommitted events, or this node's held
    /// events reach the cap, read nothing more.
    /// </summary>
    async Task IShardQueues.WaitForRoomAsync(int node, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? room;
            lock (_gate)
            {
                room = _budget.WaitFor(node);
            }
            if (room is null)
            {
                return;
            }
            await room.WaitAsync(cancellationToken);
        }
    }

    (int[] TopicIds, Dictionary<int, EventPosition> Committed) IShardQueues.Committed()
    {
        lock (_gate)
        {
            return (_topics.Ids, CommittedPositions());
        }
    }

    (int[] TopicIds, Dictionary<int, EventPosition> Committed) IShardQueues.ClearForReread()
    {
        lock (_gate)
        {
            var committed = CommittedPositions();
            foreach (var queue in _shards)
            {
                var (events, bytes) = queue.ClearForReread();
                _budget.Free(events, bytes);
            }
            return (_topics.Ids, committed);
        }
    }

    ulong? IShardQueues.OldestBufferedLsn(int node)
    {
        lock (_gate)
        {
            ulong? oldest = null;
            foreach (var queue in _shards)
            {
                if (queue.OldestStreamedLsn(node) is { } lsn && (oldest is null || lsn < oldest))
                {
                    oldest = lsn;
                }
            }
            return oldest;
        }
    }

    void IShardQueues.RouteAllTo(int node)
    {
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                queue.Route.Start(node);
            }
        }
    }

    void IShardQueues.RouteFromCommitted(IReadOnlyList<int> placement, IReadOnlyDictionary<int, ulong> barriers)
    {
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = placement[queue.Shard];
                var committedNode = queue.Committed?.Node;
                if (placed < 0 || committedNode == placed)
                {
                    queue.Route.Start(placed < 0 ? committedNode ?? 0 : placed);
                    continue;
                }
                // Older events of the shard may wait in the streams of the node it was committed
                // on (or, never committed, of any node): those come first.
                var waits = committedNode is { } c
                    ? barriers.Where(b => b.Key == c).ToDictionary()
                    : barriers;
                queue.Route.SwitchTo(placed, waits);
                if (queue.Route.ReadyToComplete)
                {
                    CompleteSwitch(queue);
                }
            }
        }
    }

    HashSet<int> IShardQueues.FindMoves(IReadOnlyList<int> placement)
    {
        var leaving = new HashSet<int>();
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = placement[queue.Shard];
                if (placed < 0 || queue.Route.Switching)
                {
                    continue;
                }
                if (queue.Route.Current != placed)
                {
                    leaving.Add(queue.Route.Current);
                }
                else if (queue.Route.HoldsStrays)
                {
                    Release(queue.Route.DropStrays(placed), queue.Route);
                }
            }
        }
        return leaving;
    }

    void IShardQueues.SwitchMoved(IReadOnlyList<int> placement, IReadOnlyDictionary<int, ulong> barriers)
    {
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = placement[queue.Shard];
                if (placed < 0 || queue.Route.Switching || queue.Route.Current == placed)
                {
                    continue;
                }
                GroupLog.ShardMoved(_logger, Group, queue.Shard, queue.Route.Current, placed);
                // A node that is gone (or was never streamed) holds nothing more to wait for.
                var from = queue.Route.Current;
                queue.Route.SwitchTo(placed, barriers.Where(b => b.Key == from).ToDictionary());
                if (queue.Route.ReadyToComplete)
                {
                    CompleteSwitch(queue);
                }
            }
        }
    }

    void IShardQueues.BarrierPassed(int node, ulong lsn)
    {
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                if (queue.Route.WaitsFor(node) && queue.Route.BarrierPassed(node, lsn))
                {
                    CompleteSwitch(queue);
                }
            }
        }
    }

    bool IShardQueues.NeedsNode(int node)
    {
        lock (_gate)
        {
            return _shards.Any(q => q.Route.Current == node || q.Route.Target == node || q.Route.WaitsFor(node) || q.Buffers(node));
        }
    }

    /// <summary>Under the lock.</summary>
    private Dictionary<int, EventPosition> CommittedPositions() =>
        _shards.Where(s => s.Committed is not null).ToDictionary(s => s.Shard, s => s.Committed!.Value);

    /// <summary>Adds an event to its shard's queue and wakes the owner. Under the lock.</summary>
    private void Deliver(ShardQueue queue, StreamedEvent e)
    {
        if (queue.TryAppend(e))
        {
            _budget.Add(e.Size);
            _members.WakeOwnerOf(queue);
        }
    }

    /// <summary>The shard's new node becomes current; its held events are delivered. Under the lock.</summary>
    private void CompleteSwitch(ShardQueue queue)
    {
        var target = queue.Route.Target;
        var held = queue.Route.Complete();
        Release((held.Count, 0), null, target);
        foreach (var e in held)
        {
            Deliver(queue, e);
        }
    }

    /// <summary>Held events left the route (delivered or dropped): room for their node's reader. Under the lock.</summary>
    private void Release((int Events, long Bytes) released, ShardRoute? route, int node = -1)
    {
        if (released.Events == 0)
        {
            return;
        }
        if (route is not null)
        {
            // Dropped strays: recount per node.
            _budget.RecountHeld(_shards.SelectMany(queue => queue.Route.HeldPerNode()));
        }
        else
        {
            _budget.Unhold(node, released.Events);
        }
    }
}
