using Npgsql;

namespace EventStream.Broker.Citus;

/// <summary>
/// Citus mode: detected from the citus extension in the broker's database. Every node must decode
/// changes under the distributed table's name (<c>citus.enable_change_data_capture</c>) and have
/// <c>wal_level = logical</c>; <c>eventstream.events</c> is distributed by shard.
/// </summary>
internal static class CitusSetup
{
    private const string SettingsOfEveryNode = """
        SELECT n.nodename || ':' || n.nodeport, r.success, r.result
        FROM run_command_on_all_nodes($$SELECT current_setting('wal_level') || ' ' || current_setting('citus.enable_change_data_capture', true)$$) r
        JOIN pg_dist_node n USING (nodeid)
        ORDER BY n.nodeid
        """;

    // Serialises brokers that start together; the number is arbitrary but fixed.
    private const long DistributeLockKey = 7_400_002;

    public static async Task<bool> IsCitusAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Throws <see cref="CitusSetupException"/> naming the first node and setting that is wrong.</summary>
    public static async Task CheckNodesAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(SettingsOfEveryNode);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var node = reader.GetString(0);
            if (!reader.GetBoolean(1))
            {
                throw new CitusSetupException($"Citus node {node} could not be checked: {reader.GetString(2)}");
            }
            var values = reader.GetString(2).Split(' ');
            if (values[0] != "logical")
            {
                throw new CitusSetupException(
                    $"Citus node {node} has wal_level = {values[0]}; EventStream streams events by logical decoding and needs wal_level = logical on every node. Set it and restart that node.");
            }
            if (values.Length < 2 || values[1] != "on")
            {
                throw new CitusSetupException(
                    $"Citus node {node} has citus.enable_change_data_capture = {(values.Length < 2 || values[1].Length == 0 ? "off" : values[1])}; EventStream needs it on on every node (otherwise changes are decoded under shard names and shard moves re-emit their rows). Set citus.enable_change_data_capture = on and reload that node.");
            }
        }
    }

    /// <summary>Distributes <c>eventstream.events</c> by shard, once, into as many Citus shards as the cluster has shards.</summary>
    public static async Task DistributeAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({DistributeLockKey})", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using var distribute = new NpgsqlCommand("""
                SELECT create_distributed_table('eventstream.events', 'shard', shard_count := c.shard_count)
                FROM eventstream.cluster c
                WHERE NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'eventstream.events'::regclass)
                """, connection);
            await distribute.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({DistributeLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}

/// <summary>The Citus cluster is not set up the way EventStream needs; the message says what to change.</summary>
public sealed class CitusSetupException(string message) : Exception(message);
