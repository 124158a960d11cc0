using System.Collections.Concurrent;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Citus;

/// <summary>
/// The PostgreSQL nodes the events live on and which node holds each EventStream shard. On a
/// single PostgreSQL: one node, 0, the broker's database, holding every shard. On Citus: the
/// primary nodes of <c>pg_dist_node</c>, read from the coordinator, refreshed when older than
/// <see cref="MaxAge"/> or on demand.
/// </summary>
internal sealed class ClusterTopology(DatabaseEndpoint database, ClusterSettings cluster, TimeProvider timeProvider) : IAsyncDisposable
{
    /// <summary>How long a topology read is reused.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

    private const string PlacementsSql = """
        SELECT s.shard, n.nodeid
        FROM generate_series(0, $1 - 1) AS s(shard)
        JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('eventstream.events', s.shard)
        JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
        ORDER BY s.shard, n.nodeid
        """;

    private const string NodesSql = """
        SELECT nodeid, nodename, nodeport, shouldhaveshards AND isactive
        FROM pg_dist_node WHERE noderole = 'primary' ORDER BY nodeid
        """;

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly ConcurrentDictionary<string, NpgsqlDataSource> _dataSources = new(StringComparer.Ordinal);
    private volatile TopologySnapshot? _current;
    private long _readAt;

    /// <summary>The last topology read, refreshed when older than <see cref="MaxAge"/> (or always, with <paramref name="refresh"/>).</summary>
    public async Task<TopologySnapshot> GetAsync(bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && _current is { } known && timeProvider.GetElapsedTime(Interlocked.Read(ref _readAt)) < MaxAge)
        {
            return known;
        }
        var started = timeProvider.GetTimestamp();
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } fresh && Interlocked.Read(ref _readAt) >= started)
            {
                return fresh;
            }
            var snapshot = await ReadAsync(cancellationToken);
            _current = snapshot;
            Interlocked.Exchange(ref _readAt, timeProvider.GetTimestamp());
            return snapshot;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>A data source for a node (kept for the broker's lifetime).</summary>
    public NpgsqlDataSource DataSourceOf(ClusterNode node) =>
        node.Id == 0 && !database.IsCitus
            ? database.DataSource
            : _dataSources.GetOrAdd(node.ConnectionString, s => NpgsqlDataSource.Create(s));

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources.Values)
        {
            await dataSource.DisposeAsync();
        }
        _dataSources.Clear();
        _refreshing.Dispose();
    }

    private async Task<TopologySnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var shardCount = await cluster.GetShardCountAsync(cancellationToken);
        if (!database.IsCitus)
        {
            var single = new ClusterNode(0, "", 0, database.ConnectionString, MayHoldShards: true);
            return new TopologySnapshot(true, [single], Enumerable.Repeat(0, shardCount).ToArray());
        }
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        var nodes = new List<ClusterNode>();
        await using (var command = new NpgsqlCommand(NodesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var host = reader.GetString(1);
                var port = reader.GetInt32(2);
                nodes.Add(new ClusterNode(reader.GetInt32(0), host, port, NodeConnectionString(host, port), reader.GetBoolean(3)));
            }
        }
        var shardNodes = Enumerable.Repeat(-1, shardCount).ToArray();
        await using (var command = new NpgsqlCommand(PlacementsSql, connection) { Parameters = { new() { Value = shardCount } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // One placement per shard (no replication); should there be more, the first wins.
                var shard = reader.GetInt32(0);
                if (shardNodes[shard] < 0)
                {
                    shardNodes[shard] = reader.GetInt32(1);
                }
            }
        }
        return new TopologySnapshot(false, nodes, shardNodes);
    }

    private string NodeConnectionString(string host, int port)
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = host, Port = port };
        return builder.ConnectionString;
    }
}

/// <summary>A PostgreSQL node that stores events.</summary>
/// <param name="Id">0 on a single PostgreSQL; the Citus node id otherwise.</param>
/// <param name="MayHoldShards">Active and allowed to receive shards (Citus <c>shouldhaveshards</c>).</param>
internal sealed record ClusterNode(int Id, string Host, int Port, string ConnectionString, bool MayHoldShards);

/// <summary>One read of the topology.</summary>
/// <param name="IsSingleNode">Plain PostgreSQL: node 0 holds everything.</param>
/// <param name="Nodes">The primary nodes.</param>
/// <param name="ShardNodes">Per EventStream shard, the id of the node holding it (-1 if unknown).</param>
internal sealed record TopologySnapshot(bool IsSingleNode, IReadOnlyList<ClusterNode> Nodes, int[] ShardNodes)
{
    public ClusterNode? Node(int id) => Nodes.FirstOrDefault(n => n.Id == id);

    /// <summary>Whether some shard is placed on the node.</summary>
    public bool HoldsShards(int nodeId) => ShardNodes.Contains(nodeId);

    /// <summary>The nodes a group keeps a slot on: those holding shards and those that may receive some.</summary>
    public IEnumerable<ClusterNode> SlotNodes => Nodes.Where(n => n.MayHoldShards || HoldsShards(n.Id));
}
