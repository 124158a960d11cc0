using EventStream.Broker.Citus;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Barriers of shard moves on Citus: a token written into a node's WAL for this group; when the
/// node's stream decodes it, everything that node committed before it has been delivered, and a
/// shard moved away from it can switch to its new node.
/// </summary>
internal sealed partial class GroupCoordinator
{
    private readonly Dictionary<string, (int Node, ulong Lsn)> _barriers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _earlyBarriers = new(StringComparer.Ordinal);

    /// <summary>Writes a barrier for this group in a node's WAL; its stream reports it through <see cref="OnBarrier"/>.</summary>
    private async Task<ulong> WriteBarrierAsync(ClusterNode node, CancellationToken cancellationToken)
    {
        var token = $"{Group}:{Guid.NewGuid():N}";
        var lsn = await SlotBarrier.WriteAsync(_topology.DataSourceOf(node), token, cancellationToken);
        lock (_gate)
        {
            _barriers[token] = (node.Id, lsn);
        }
        return lsn;
    }

    /// <summary>A node's stream decoded a barrier: everything committed there before it was delivered.</summary>
    private void OnBarrier(int node, string token)
    {
        if (!token.StartsWith(Group + ":", StringComparison.Ordinal))
        {
            return;
        }
        lock (_gate)
        {
            if (_barriers.Remove(token, out var barrier))
            {
                PassBarrier(barrier.Node, barrier.Lsn);
            }
            else
            {
                // Decoded before its writer registered it.
                _earlyBarriers.Add(token);
            }
        }
    }

    /// <summary>Barriers decoded before being registered. Under the lock.</summary>
    private void ApplyEarlyBarriers()
    {
        foreach (var token in _earlyBarriers.ToList())
        {
            if (_barriers.Remove(token, out var barrier))
            {
                _earlyBarriers.Remove(token);
                PassBarrier(barrier.Node, barrier.Lsn);
            }
        }
    }

    /// <summary>Under the lock.</summary>
    private void PassBarrier(int node, ulong lsn)
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
