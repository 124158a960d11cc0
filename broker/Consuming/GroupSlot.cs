using Npgsql;
using Npgsql.Replication;

namespace EventStream.Broker.Consuming;

/// <summary>Creates, finds and drops the logical replication slot of a consumer group.</summary>
internal static class GroupSlot
{
    /// <summary>
    /// Creates the slot and exports the snapshot it starts from. The snapshot stays valid while
    /// the returned connection is open and unused: import it, then dispose the connection.
    /// </summary>
    public static async Task<CreatedSlot> CreateAsync(string connectionString, string slotName, CancellationToken cancellationToken)
    {
        var connection = new LogicalReplicationConnection(await ReplicationHost.ResolveAsync(connectionString, cancellationToken));
        try
        {
            await connection.Open(cancellationToken);
            var slot = await connection.CreatePgOutputReplicationSlot(
                slotName, temporarySlot: false, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
            return new CreatedSlot(connection, slot.SnapshotName!, (ulong)slot.ConsistentPoint);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates the slot (without a snapshot) unless it exists; false when it did, perhaps made
    /// meanwhile by another broker or by <c>GroupSlotKeeper</c>.
    /// </summary>
    public static async Task<bool> CreateUnlessExistsAsync(NpgsqlDataSource database, string slotName, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(database, slotName, cancellationToken))
        {
            return false;
        }
        try
        {
            await using var command = database.CreateCommand("SELECT pg_create_logical_replication_slot($1, 'pgoutput')");
            command.Parameters.Add(new NpgsqlParameter { Value = slotName });
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == "42710")
        {
            // duplicate_object: made between the check and the creation.
            return false;
        }
    }

    public static async Task<bool> ExistsAsync(NpgsqlDataSource database, string slotName, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = slotName });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Whether the slot exists but was invalidated (it fell behind <c>max_slot_wal_keep_size</c>):
    /// the WAL it needed is gone, and it can stream nothing more.
    /// </summary>
    public static async Task<bool> IsLostAsync(NpgsqlDataSource database, string slotName, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1 AND wal_status = 'lost')");
        command.Parameters.Add(new NpgsqlParameter { Value = slotName });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Drops the slot if it exists, ending any session still streaming it.</summary>
    public static async Task DropAsync(NpgsqlDataSource database, string slotName, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter { Value = slotName });
        await command.ExecuteNonQueryAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var drop = database.CreateCommand("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1");
                drop.Parameters.Add(new NpgsqlParameter { Value = slotName });
                await drop.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (PostgresException e) when (e.SqlState == "55006" && attempt < 50)
            {
                // Still active: the terminated session is on its way out.
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}

/// <summary>A new slot, its consistent point and the snapshot exported at that point.</summary>
internal sealed record CreatedSlot(LogicalReplicationConnection Connection, string SnapshotName, ulong ConsistentPoint) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

/// <summary>
/// Barriers in a node's WAL: a non-transactional logical message every slot of the node decodes
/// after all transactions committed before it. A group's stream of that node has then delivered
/// everything committed there before the barrier was written.
/// </summary>
internal static class SlotBarrier
{
    /// <summary>Writes a barrier with a token; returns its LSN.</summary>
    public static async Task<ulong> WriteAsync(NpgsqlDataSource node, string token, CancellationToken cancellationToken)
    {
        await using var command = node.CreateCommand("SELECT pg_logical_emit_message(false, $1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = SlotReader.BarrierPrefix });
        command.Parameters.Add(new NpgsqlParameter { Value = token });
        return (ulong)(NpgsqlTypes.NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
