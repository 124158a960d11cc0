using System.Collections.Concurrent;
using EventStream.Broker.Citus;
using NpgsqlTypes;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Checks a committed position against the cluster: its node must exist and its commit LSN must not
/// be past the end of that node's WAL, where no delivered event can be (a commit there would skip
/// every event the shard gets from then on). Each node's WAL end is remembered and read again only
/// when a commit passes it.
/// </summary>
internal sealed class WalEnds(ClusterTopology topology)
{
    private readonly ConcurrentDictionary<int, ulong> _known = new();

    /// <summary>Why the position cannot have been delivered, or null when it can.</summary>
    public async Task<string?> ProblemAsync(int node, ulong commitLsn, CancellationToken cancellationToken)
    {
        var nodes = await topology.GetAsync(refresh: false, cancellationToken);
        if (nodes.Node(node) is null)
        {
            // A node may have been added since the last read.
            nodes = await topology.GetAsync(refresh: true, cancellationToken);
        }
        if (nodes.Node(node) is not { } found)
        {
            return $"position.node {node} is not a node of the cluster";
        }
        if (commitLsn <= _known.GetValueOrDefault(node))
        {
            return null;
        }
        await using var command = topology.DataSourceOf(found).CreateCommand("SELECT pg_current_wal_lsn()");
        var end = (ulong)(NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(cancellationToken))!;
        _known.AddOrUpdate(node, end, (_, known) => Math.Max(known, end));
        return commitLsn <= end
            ? null
            : $"position.commit_lsn {new NpgsqlLogSequenceNumber(commitLsn)} is past the end of node {node}'s WAL: no event there was delivered";
    }
}
