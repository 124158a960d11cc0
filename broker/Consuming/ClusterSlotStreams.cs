using EventStream.Broker.Citus;

namespace EventStream.Broker.Consuming;

/// <summary>Citus: a group's slot and stream on every node that needs one, following the cluster's topology.</summary>
/// <remarks>
/// A node needs one when it holds shards or may receive some. Follows shard moves (a shard's
/// events from its new node wait until the old node's stream has passed a barrier written after
/// the move), and drops the slot of a node left without shards once its stream is drained.
/// </remarks>
internal sealed class ClusterSlotStreams(GroupStreamContext context, GroupSlotStreams streams)
{
    private static readonly TimeSpan TopologyCheckMinInterval = TimeSpan.FromMilliseconds(200);

    private readonly ShardMoveBarriers _barriers = new(context);
    private readonly Lock _gate = new();
    private TaskCompletionSource _topologyChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Reads the topology at most every <see cref="ClusterTopology.MaxAge"/>, and sooner when a stream saw a move.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var prepared = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var topology = await context.Topology.GetAsync(refresh: true, stoppingToken);
                if (!prepared)
                {
                    await PrepareAsync(topology, stoppingToken);
                    prepared = true;
                }
                else
                {
                    await FollowAsync(topology, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                GroupLog.TopologyFailed(context.Logger, context.Group, e);
                if (!prepared)
                {
                    context.FailUnlessReady("replication slots");
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
                await Task.Delay(TopologyCheckMinInterval, context.TimeProvider, stoppingToken);
                await Task.WhenAny(changed, Task.Delay(ClusterTopology.MaxAge, context.TimeProvider, stoppingToken));
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
    private async Task PrepareAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var group = await store.LoadGroupAsync(context.Group, cancellationToken)
            ?? throw new InvalidOperationException($"Group {context.Group} was deleted.");
        var slotNodes = new List<ClusterNode>();
        var needed = topology.SlotNodes.Select(n => n.Id).ToHashSet();
        foreach (var node in topology.Nodes)
        {
            if (await GroupSlot.ExistsAsync(context.Topology.DataSourceOf(node), context.SlotName, cancellationToken))
            {
                slotNodes.Add(node);
            }
            else if (needed.Contains(node.Id))
            {
                await CreateSlotAsync(node, cancellationToken);
                slotNodes.Add(node);
            }
        }
        context.MarkSlotReady();

        if (!group.BackfillDone && group.BackfillFrom is { } from)
        {
            // An exported snapshot covers one node only: read through the coordinator up to the
            // slots' creation (plus a margin); events near the seam may come twice, none is missed.
            var until = group.BackfillUntil ?? context.TimeProvider.GetUtcNow().UtcDateTime;
            if (group.BackfillUntil is null)
            {
                await store.MarkBackfillStartedAsync(context.Group, until, cancellationToken);
            }
            await GroupTableRead.ReadAsync(context, null, from, until + GroupTableRead.Margin,
                s => Math.Max(0, topology.ShardNodes[s]), cancellationToken);
            await store.MarkBackfillDoneAsync(context.Group, cancellationToken);
        }

        var barriers = new Dictionary<int, ulong>();
        foreach (var node in slotNodes)
        {
            barriers[node.Id] = await _barriers.WriteAsync(node, cancellationToken);
        }
        context.Queues.RouteFromCommitted(topology.ShardNodes, barriers);
        _barriers.ApplyDecoded();
        foreach (var node in slotNodes)
        {
            StartStream(node);
        }
    }

    /// <summary>Streams on new nodes, switches of moved shards, slots of nodes left without shards.</summary>
    private async Task FollowAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        foreach (var node in topology.SlotNodes)
        {
            if (!streams.IsStreaming(node.Id))
            {
                await CreateSlotAsync(node, cancellationToken);
                StartStream(node);
            }
        }

        var leaving = context.Queues.FindMoves(topology.ShardNodes);
        var barriers = new Dictionary<int, ulong>();
        foreach (var nodeId in leaving)
        {
            if (streams.IsStreaming(nodeId) && topology.Node(nodeId) is { } node)
            {
                barriers[nodeId] = await _barriers.WriteAsync(node, cancellationToken);
            }
        }
        context.Queues.SwitchMoved(topology.ShardNodes, barriers);
        _barriers.ApplyDecoded();
        await DropOrphanedSlotsAsync(topology, cancellationToken);
    }

    /// <summary>
    /// Stops the stream and drops the slot of each node that holds no shard and may not receive
    /// any, once no shard's events from it are buffered or awaited.
    /// </summary>
    private async Task DropOrphanedSlotsAsync(TopologySnapshot topology, CancellationToken cancellationToken)
    {
        var slotNodes = topology.SlotNodes.Select(n => n.Id).ToHashSet();
        var orphans = new List<NodeSlotStream>();
        foreach (var nodeId in streams.Nodes())
        {
            if (!slotNodes.Contains(nodeId) && !context.Queues.NeedsNode(nodeId) && streams.Remove(nodeId) is { } orphan)
            {
                orphans.Add(orphan);
            }
        }
        foreach (var orphan in orphans)
        {
            await orphan.StopAsync();
            if (topology.Node(orphan.Node.Id) is { } node)
            {
                await GroupSlot.DropAsync(context.Topology.DataSourceOf(node), context.SlotName, cancellationToken);
            }
            GroupLog.SlotDropped(context.Logger, context.Group, orphan.Node.Id);
        }
    }

    private void StartStream(ClusterNode node) =>
        streams.Start(node, async token =>
        {
            // Dropped behind the broker's back: what it held is gone; stream what follows.
            await CreateSlotAsync(node, token);
        }, _barriers.OnDecoded, OnStray);

    private async Task CreateSlotAsync(ClusterNode node, CancellationToken cancellationToken)
    {
        if (await GroupSlot.CreateUnlessExistsAsync(context.Topology.DataSourceOf(node), context.SlotName, cancellationToken))
        {
            GroupLog.SlotCreated(context.Logger, context.Group, context.SlotName, node.Id);
        }
    }

    /// <summary>A stream saw events of a shard on a node it was not known to be on: read the topology now.</summary>
    private void OnStray()
    {
        lock (_gate)
        {
            _topologyChanged.TrySetResult();
        }
    }
}
