using EventStream.Broker.Citus;
using Grpc.Core;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Citus: one slot per (group, node). Keeps a stream on every node that holds shards or may
/// receive some, follows shard moves (holding a shard's events from its new node until the old
/// node's stream has passed a barrier written after the move), and drops the slot of a node
/// left without shards once its stream is drained.
/// </summary>
internal sealed partial class GroupCoordinator
{
    private static readonly TimeSpan TopologyCheckMinInterval = TimeSpan.FromMilliseconds(200);

    private TaskCompletionSource _topologyChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RunClusterAsync(CancellationToken stoppingToken)
    {
        var prepared = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var topology = await _topology.GetAsync(refresh: true, stoppingToken);
                if (!prepared)
                {
                    await PrepareClusterAsync(topology, stoppingToken);
                    prepared = true;
                }
                else
                {
                    await FollowTopologyAsync(topology, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                GroupLog.TopologyFailed(_logger, Group, e);
                if (!prepared && !_slotReady.Task.IsCompleted)
                {
                    _slotReady.TrySetException(new RpcException(new Status(StatusCode.Unavailable,
                        $"The replication slots of group '{Group}' could not be set up (the broker's log has the cause); retry later.")));
                }
            }
            try
            {
                Task changed;
                lock (_gate)
                {
                    if (_topologyChanged.Task.IsCompleted)
                    {
                        _topologyChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                    changed = _topologyChanged.Task;
                }
                await Task.Delay(TopologyCheckMinInterval, _timeProvider, stoppingToken);
                await Task.WhenAny(changed, Task.Delay(ClusterTopology.MaxAge, _timeProvider, stoppingToken));
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The first look at the cluster: slots on every node that needs one, the table read of a new
    /// group's start point, each shard's route from its committed node to its current node, then
    /// the streams.
    /// </summary>
    private async Task PrepareClusterAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        var group = await _store.LoadGroupAsync(Group, cancellationToken)
            ?? throw new InvalidOperationException($"Group {Group} was deleted.");
        var slot = SlotNames.ForGroup(Group);
        var slotNodes = new List<ClusterNode>();
        var needed = topology.SlotNodes.Select(n => n.Id).ToHashSet();
        foreach (var node in topology.Nodes)
        {
            if (await GroupSlot.ExistsAsync(_topology.DataSourceOf(node), slot, cancellationToken))
            {
                slotNodes.Add(node);
            }
            else if (needed.Contains(node.Id))
            {
                if (await GroupSlot.CreateUnlessExistsAsync(_topology.DataSourceOf(node), slot, cancellationToken))
                {
                    GroupLog.SlotCreated(_logger, Group, slot, node.Id);
                }
                slotNodes.Add(node);
            }
        }
        _slotReady.TrySetResult();

        if (!group.BackfillDone && group.BackfillFrom is { } from)
        {
            // An exported snapshot covers one node only: read through the coordinator up to the
            // slots' creation (plus a margin); events near the seam may come twice, none is missed.
            var until = group.BackfillUntil ?? _timeProvider.GetUtcNow().UtcDateTime;
            if (group.BackfillUntil is null)
            {
                await _store.MarkBackfillStartedAsync(Group, until, cancellationToken);
            }
            await BackfillAsync(null, from, until + BackfillMargin, s => Math.Max(0, topology.ShardNodes[s]), cancellationToken);
            await _store.MarkBackfillDoneAsync(Group, cancellationToken);
        }

        var barriers = new Dictionary<int, ulong>();
        foreach (var node in slotNodes)
        {
            barriers[node.Id] = await WriteBarrierAsync(node, cancellationToken);
        }
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = topology.ShardNodes[queue.Shard];
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
            ApplyEarlyBarriers();
        }
        foreach (var node in slotNodes)
        {
            StartNodeStream(node, singleNode: false);
        }
    }

    /// <summary>Streams on new nodes, switches of moved shards, slots of nodes left without shards.</summary>
    private async Task FollowTopologyAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        var slot = SlotNames.ForGroup(Group);
        foreach (var node in topology.SlotNodes)
        {
            bool known;
            lock (_gate)
            {
                known = _streams.ContainsKey(node.Id);
            }
            if (!known)
            {
                if (await GroupSlot.CreateUnlessExistsAsync(_topology.DataSourceOf(node), slot, cancellationToken))
                {
                    GroupLog.SlotCreated(_logger, Group, slot, node.Id);
                }
                StartNodeStream(node, singleNode: false);
            }
        }

        var leaving = new HashSet<int>();
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = topology.ShardNodes[queue.Shard];
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
        var barriers = new Dictionary<int, ulong>();
        foreach (var nodeId in leaving)
        {
            bool streamed;
            lock (_gate)
            {
                streamed = _streams.ContainsKey(nodeId);
            }
            if (streamed && topology.Node(nodeId) is { } node)
            {
                barriers[nodeId] = await WriteBarrierAsync(node, cancellationToken);
            }
        }
        lock (_gate)
        {
            foreach (var queue in _shards)
            {
                var placed = topology.ShardNodes[queue.Shard];
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
            ApplyEarlyBarriers();
        }
        await DropOrphanedSlotsAsync(topology, cancellationToken);
    }

    /// <summary>
    /// Stops the stream and drops the slot of each node that holds no shard and may not receive
    /// any, once no shard's events from it are buffered or awaited.
    /// </summary>
    private async Task DropOrphanedSlotsAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        var slotNodes = topology.SlotNodes.Select(n => n.Id).ToHashSet();
        var orphans = new List<NodeStream>();
        lock (_gate)
        {
            foreach (var (nodeId, stream) in _streams)
            {
                if (slotNodes.Contains(nodeId)
                    || _shards.Any(q => q.Route.Current == nodeId || q.Route.Target == nodeId || q.Route.WaitsFor(nodeId) || q.Buffers(nodeId)))
                {
                    continue;
                }
                orphans.Add(stream);
            }
            foreach (var orphan in orphans)
            {
                _streams.Remove(orphan.Node.Id);
            }
        }
        foreach (var orphan in orphans)
        {
            await orphan.Stopping.CancelAsync();
            try
            {
                await orphan.Running;
            }
            catch (OperationCanceledException)
            {
            }
            orphan.Stopping.Dispose();
            if (topology.Node(orphan.Node.Id) is { } node)
            {
                await GroupSlot.DropAsync(_topology.DataSourceOf(node), SlotNames.ForGroup(Group), cancellationToken);
            }
            GroupLog.SlotDropped(_logger, Group, orphan.Node.Id);
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
