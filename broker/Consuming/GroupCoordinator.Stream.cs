using EventStream.Broker.Citus;
using Grpc.Core;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Streaming into the shard queues: each node's slot stream, the table read a group starts with,
/// appending events under the buffer budget, and releasing WAL the group no longer needs.
/// </summary>
internal sealed partial class GroupCoordinator
{
    // Clocks of brokers and database differ a little: a restarted table read goes this far past
    // the slot's creation, preferring repeats to gaps.
    private static readonly TimeSpan BackfillMargin = TimeSpan.FromMinutes(1);

    private readonly Dictionary<int, NodeStream> _streams = [];

    /// <summary>Starts streaming a node's slot (the slot exists, or is created on a single node).</summary>
    private void StartNodeStream(ClusterNode node, bool singleNode)
    {
        var stream = new NodeStream(node, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        lock (_gate)
        {
            _streams[node.Id] = stream;
        }
        stream.Running = Task.Run(() => RunNodeStreamAsync(stream, singleNode, stream.Stopping.Token), CancellationToken.None);
    }

    private async Task RunNodeStreamAsync(NodeStream stream, bool singleNode, CancellationToken stoppingToken)
    {
        var slot = SlotNames.ForGroup(Group);
        while (!stoppingToken.IsCancellationRequested)
        {
            // A server shutting down waits for its walsenders' clients: this stream lets go at once.
            using var streaming = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _shutdowns.Next(stream.Node.ConnectionString));
            var token = streaming.Token;
            try
            {
                if (singleNode)
                {
                    await PrepareSlotAsync(token);
                }
                else if (await GroupSlot.CreateUnlessExistsAsync(_topology.DataSourceOf(stream.Node), slot, token))
                {
                    // Dropped behind the broker's back: what it held is gone; stream what follows.
                    GroupLog.SlotCreated(_logger, Group, slot, stream.Node.Id);
                }
                await using var reader = await SlotReader.OpenAsync(stream.Node.ConnectionString, slot, token,
                    stream.Node.Id, barriers: !singleNode);
                stream.Reader = reader;
                GroupLog.Streaming(_logger, Group, stream.Node.Id);
                await foreach (var transaction in reader.ReadAsync(token))
                {
                    if (transaction.Barrier is { } barrier)
                    {
                        OnBarrier(stream.Node.Id, barrier);
                        continue;
                    }
                    await WaitForRoomAsync(stream.Node.Id, token);
                    await AppendAsync(transaction.Events, stream.Node.Id, token);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (token.IsCancellationRequested)
                {
                    GroupLog.StreamClosedForShutdown(_logger, Group, stream.Node.Id);
                }
                else
                {
                    GroupLog.StreamFailed(_logger, Group, stream.Node.Id, e);
                }
                if (!_slotReady.Task.IsCompleted && !token.IsCancellationRequested)
                {
                    // Nobody can join a group without its slot; let them know instead of waiting.
                    _slotReady.TrySetException(new RpcException(new Status(StatusCode.Unavailable,
                        $"The replication slot of group '{Group}' could not be set up (the broker's log has the cause); retry later.")));
                }
                try
                {
                    await Task.Delay(_options.ReconnectDelay, _timeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                stream.Reader = null;
            }
        }
    }

    /// <summary>
    /// Single node: creates the slot on the group's first start, reading the events the group
    /// starts with from the table under the snapshot the slot exports; after a restart that
    /// interrupted that read, finishes it without the snapshot.
    /// </summary>
    private async Task PrepareSlotAsync(CancellationToken cancellationToken)
    {
        var group = await _store.LoadGroupAsync(Group, cancellationToken)
            ?? throw new InvalidOperationException($"Group {Group} was deleted.");
        var slot = SlotNames.ForGroup(Group);
        if (await GroupSlot.IsLostAsync(_store.DataSource, slot, cancellationToken))
        {
            GroupLog.SlotInvalidated(_logger, Group, slot);
            await GroupSlot.DropAsync(_store.DataSource, slot, cancellationToken);
        }
        var exists = await GroupSlot.ExistsAsync(_store.DataSource, slot, cancellationToken);
        if (!exists && group.SlotCreatedAt is not null && group.BackfillDone)
        {
            group = await RecoverLostSlotAsync(group, cancellationToken);
        }
        var backfillFrom = group.BackfillDone ? null : group.BackfillFrom;
        if (!exists)
        {
            var node = (await _topology.GetAsync(refresh: false, cancellationToken)).Nodes[0];
            await using var created = await GroupSlot.CreateAsync(node.ConnectionString, slot, cancellationToken);
            GroupLog.SlotCreated(_logger, Group, slot, node.Id);
            await _store.MarkSlotCreatedAsync(Group, cancellationToken);
            _slotReady.TrySetResult();
            if (backfillFrom is { } from)
            {
                var until = _timeProvider.GetUtcNow().UtcDateTime;
                await _store.MarkBackfillStartedAsync(Group, until, cancellationToken);
                await BackfillAsync(created.SnapshotName, from, until, _ => 0, cancellationToken);
                await _store.MarkBackfillDoneAsync(Group, cancellationToken);
            }
            return;
        }
        _slotReady.TrySetResult();
        if (backfillFrom is { } restartFrom)
        {
            // A restart interrupted the table read and took the snapshot with it: read again up to
            // the slot's creation; events near the seam may come twice, none is missed.
            var until = (group.BackfillUntil ?? _timeProvider.GetUtcNow().UtcDateTime) + BackfillMargin;
            await BackfillAsync(null, restartFrom, until, _ => 0, cancellationToken);
            await _store.MarkBackfillDoneAsync(Group, cancellationToken);
        }
    }

    /// <summary>
    /// The slot of a group that had finished its table read is gone (failover to a standby, or
    /// dropped by someone): records that the group reads the table again from its committed
    /// positions, before the new slot is made.
    /// </summary>
    private async Task<GroupRow> RecoverLostSlotAsync(GroupRow group, CancellationToken cancellationToken)
    {
        int[] topics;
        Dictionary<int, EventPosition> committed;
        lock (_gate)
        {
            topics = _topics.Ids;
            committed = Committed();
            foreach (var queue in _shards)
            {
                var (events, bytes) = queue.ClearForReread();
                _budget.Free(events, bytes);
            }
        }
        var from = await ResumePoints.EarliestAsync(_store, group, topics, committed, _shards.Length, cancellationToken);
        GroupLog.SlotLost(_logger, Group, from);
        await _store.MarkSlotLostAsync(Group, from, cancellationToken);
        return group with { BackfillFrom = from, BackfillUntil = null, BackfillDone = false };
    }

    private Dictionary<int, EventPosition> Committed() =>
        _shards.Where(s => s.Committed is not null).ToDictionary(s => s.Shard, s => s.Committed!.Value);

    private async Task BackfillAsync(string? snapshot, DateTime from, DateTime until, Func<int, int> nodeOfShard, CancellationToken cancellationToken)
    {
        int[] topics;
        Dictionary<int, EventPosition> committed;
        lock (_gate)
        {
            topics = _topics.Ids;
            committed = Committed();
        }
        var resumeTimes = await ResumePoints.OfStreamedAsync(_store, topics, committed, cancellationToken);
        var count = 0;
        await foreach (var batch in BackfillReader.ReadAsync(_store.DataSource, snapshot, topics, from, until, committed, resumeTimes, cancellationToken))
        {
            await WaitForRoomAsync(-1, cancellationToken);
            await AppendAsync(batch.Select(e => e with { Position = e.Position with { Node = nodeOfShard(e.Shard) } }).ToList(), -1, cancellationToken);
            count += batch.Count;
        }
        GroupLog.BackfillRead(_logger, Group, count, snapshot is not null);
    }

    /// <summary>
    /// Appends a node's decoded events to their shards' queues, as the shards' routes decide;
    /// <paramref name="node"/> -1 appends table-read events directly.
    /// </summary>
    private async Task AppendAsync(IReadOnlyList<StreamedEvent> events, int node, CancellationToken cancellationToken)
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
        if (stray)
        {
            _topologyChanged.TrySetResult();
        }
    }

    /// <summary>Adds an event to its shard's queue and wakes the owner. Under the lock.</summary>
    private void Deliver(ShardQueue queue, StreamedEvent e)
    {
        if (queue.TryAppend(e))
        {
            _budget.Add(e.Size);
            if (queue.Owner is { } owner && _members.TryGetValue(owner, out var member))
            {
                member.Wake();
            }
        }
    }

    /// <summary>
    /// Backpressure: while the group holds its cap of uncommitted events, or this node's held
    /// events reach the cap, read nothing more (-1: a table read, only the first applies).
    /// </summary>
    private async Task WaitForRoomAsync(int node, CancellationToken cancellationToken)
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

    /// <summary>Releases WAL per node: up to the oldest buffered event streamed from it, or all that was processed.</summary>
    private async Task RunFlushAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.FlushInterval, _timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            lock (_gate)
            {
                foreach (var (node, stream) in _streams)
                {
                    if (stream.Reader is not { } reader)
                    {
                        continue;
                    }
                    ulong? oldest = null;
                    foreach (var queue in _shards)
                    {
                        if (queue.OldestStreamedLsn(node) is { } lsn && (oldest is null || lsn < oldest))
                        {
                            oldest = lsn;
                        }
                    }
                    var flush = oldest ?? reader.ProcessedLsn;
                    if (flush > stream.Flushed)
                    {
                        reader.ConfirmFlush(flush);
                        stream.Flushed = flush;
                    }
                }
            }
        }
    }

    /// <summary>One node's slot stream.</summary>
    private sealed class NodeStream(ClusterNode node, CancellationTokenSource stopping)
    {
        public ClusterNode Node { get; } = node;

        public CancellationTokenSource Stopping { get; } = stopping;

        public Task Running { get; set; } = Task.CompletedTask;

        public volatile SlotReader? Reader;

        /// <summary>The flush position last confirmed; a new reader starts again from the slot's.</summary>
        public ulong Flushed { get; set; }
    }
}
