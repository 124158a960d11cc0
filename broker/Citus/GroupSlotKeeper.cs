using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Citus;

/// <summary>
/// On Citus, keeps every consumer group's slot on every node that holds shards or may receive
/// some, whether or not the group runs anywhere. A node's events reach a group only from its slot's
/// creation on: a slot made only when the group next runs would miss what the node stored
/// meanwhile (say, shards moved to a node added while the group's members were away). Slots of
/// groups that no longer exist are dropped.
/// </summary>
internal sealed partial class GroupSlotKeeper(
    DatabaseEndpoint database, ClusterTopology topology, TimeProvider timeProvider, ILogger<GroupSlotKeeper> logger) : BackgroundService
{
    /// <summary>How often the nodes are checked; a node added within this time of its first events may miss them.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    // object_in_use: the slot is being streamed.
    private const string ObjectInUse = "55006";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception)
        {
            return;
        }
        if (!database.IsCitus)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await KeepAsync(stoppingToken);
                await Task.Delay(Interval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
                try
                {
                    await Task.Delay(Interval, timeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task KeepAsync(CancellationToken cancellationToken)
    {
        var snapshot = await topology.GetAsync(refresh: false, cancellationToken);
        var groups = await GroupSlotsAsync(cancellationToken);
        var slotNodes = snapshot.SlotNodes.Select(n => n.Id).ToHashSet();
        var wanted = groups.Values.ToHashSet(StringComparer.Ordinal);
        foreach (var node in snapshot.Nodes)
        {
            var dataSource = topology.DataSourceOf(node);
            var existing = await ExistingSlotsAsync(dataSource, cancellationToken);
            if (slotNodes.Contains(node.Id))
            {
                foreach (var (group, slot) in groups)
                {
                    if (!existing.ContainsKey(slot) && await GroupSlot.CreateUnlessExistsAsync(dataSource, slot, cancellationToken))
                    {
                        LogSlotCreated(logger, group, slot, node.Id);
                    }
                }
            }
            foreach (var (slot, active) in existing)
            {
                if (!active && !wanted.Contains(slot) && await DropIfGroupGoneAsync(dataSource, slot, cancellationToken))
                {
                    LogOrphanDropped(logger, slot, node.Id);
                }
            }
        }
    }

    /// <summary>Each group's slot name.</summary>
    private async Task<Dictionary<string, string>> GroupSlotsAsync(CancellationToken cancellationToken)
    {
        var slots = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = database.DataSource.CreateCommand("SELECT group_name FROM eventstream.consumer_groups");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var group = reader.GetString(0);
            slots[group] = SlotNames.ForGroup(group);
        }
        return slots;
    }

    /// <summary>The node's EventStream slots, and whether each is being streamed.</summary>
    private static async Task<Dictionary<string, bool>> ExistingSlotsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var slots = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("SELECT slot_name, active FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE $1");
        command.Parameters.Add(new NpgsqlParameter { Value = SlotNames.Prefix + "%" });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            slots[reader.GetString(0)] = reader.GetBoolean(1);
        }
        return slots;
    }

    /// <summary>
    /// Drops a slot no group claims, checking again on the coordinator that no group with that slot
    /// was created since the list was read.
    /// </summary>
    private async Task<bool> DropIfGroupGoneAsync(NpgsqlDataSource dataSource, string slot, CancellationToken cancellationToken)
    {
        var groups = await GroupSlotsAsync(cancellationToken);
        if (groups.ContainsValue(slot))
        {
            return false;
        }
        try
        {
            await using var command = dataSource.CreateCommand("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active");
            command.Parameters.Add(new NpgsqlParameter { Value = slot });
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == ObjectInUse)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1620, Level = LogLevel.Information, Message = "Created the slot {Slot} of group {Group} on node {Node}")]
    private static partial void LogSlotCreated(ILogger logger, string group, string slot, int node);

    [LoggerMessage(EventId = 1621, Level = LogLevel.Information, Message = "Dropped the slot {Slot} on node {Node}: its group no longer exists")]
    private static partial void LogOrphanDropped(ILogger logger, string slot, int node);

    [LoggerMessage(EventId = 1622, Level = LogLevel.Warning, Message = "Keeping the groups' slots on the nodes failed; trying again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
