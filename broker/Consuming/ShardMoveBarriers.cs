using EventStream.Broker.Citus;

namespace EventStream.Broker.Consuming;

/// <summary>A group's barriers for shard moves on Citus: tokens written into a node's WAL, passed when decoded.</summary>
/// <remarks>
/// When the node's stream decodes one, everything that node committed before it has been delivered,
/// and a shard moved away from it can switch to its new node.
/// </remarks>
internal sealed class ShardMoveBarriers(GroupStreamContext context)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Node, ulong Lsn)> _written = new(StringComparer.Ordinal);
    private readonly HashSet<string> _early = new(StringComparer.Ordinal);
    private readonly List<(int Node, ulong Lsn)> _decoded = [];

    /// <summary>Writes a barrier for this group in a node's WAL; its stream reports it through <see cref="OnDecoded"/>.</summary>
    public async Task<ulong> WriteAsync(ClusterNode node, CancellationToken cancellationToken)
    {
        var token = $"{context.Group}:{Guid.NewGuid():N}";
        var lsn = await SlotBarrier.WriteAsync(context.Topology.DataSourceOf(node), token, cancellationToken);
        lock (_gate)
        {
            _written[token] = (node.Id, lsn);
        }
        return lsn;
    }

    /// <summary>A node's stream decoded a barrier: everything committed there before it was delivered.</summary>
    public void OnDecoded(int node, string token)
    {
        if (!token.StartsWith(context.Group + ":", StringComparison.Ordinal))
        {
            return;
        }
        (int Node, ulong Lsn) barrier;
        lock (_gate)
        {
            if (!_written.Remove(token, out barrier))
            {
                // Decoded before its writer registered it.
                _early.Add(token);
                return;
            }
            // Perhaps before the routes waiting for it were set: passed again once they are.
            _decoded.Add(barrier);
        }
        context.Queues.BarrierPassed(barrier.Node, barrier.Lsn);
    }

    /// <summary>
    /// Passes the barriers decoded since the last call, whether before or after being registered;
    /// call after the routes waiting for them are set. Passing one twice does nothing more.
    /// </summary>
    public void ApplyDecoded()
    {
        List<(int Node, ulong Lsn)> passed;
        lock (_gate)
        {
            foreach (var token in _early.ToList())
            {
                if (_written.Remove(token, out var barrier))
                {
                    _early.Remove(token);
                    _decoded.Add(barrier);
                }
            }
            passed = [.. _decoded];
            _decoded.Clear();
        }
        foreach (var (node, lsn) in passed)
        {
            context.Queues.BarrierPassed(node, lsn);
        }
    }
}
