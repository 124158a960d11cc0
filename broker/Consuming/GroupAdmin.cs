using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using Grpc.Core;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;

namespace EventStream.Broker.Consuming;

/// <summary>Lists, describes, deletes and resets consumer groups (the group methods of eventstream.v1.Admin).</summary>
internal sealed class GroupAdmin(GroupStore store, ConsumerGroups groups, ClusterTopology topology)
{
    private const string LiveMember = "m.last_heartbeat >= now() - m.session_timeout";

    public async Task<ListGroupsResponse> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = store.DataSource.CreateCommand(
            $"SELECT g.group_name, g.topics, (SELECT count(*) FROM eventstream.group_members m WHERE m.group_name = g.group_name AND {LiveMember}) " +
            "FROM eventstream.consumer_groups g ORDER BY g.group_name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var response = new ListGroupsResponse();
        while (await reader.ReadAsync(cancellationToken))
        {
            response.Groups.Add(new GroupSummary { Group = reader.GetString(0), Topics = { reader.GetFieldValue<string[]>(1) }, MemberCount = (int)reader.GetInt64(2) });
        }
        return response;
    }

    public async Task<GroupDescription> DescribeAsync(string group, CancellationToken cancellationToken)
    {
        ConsumerGroups.ValidateName(group);
        var row = await store.LoadGroupAsync(group, cancellationToken) ?? throw NotFound(group);
        var description = new GroupDescription { Group = group, Topics = { row.Topics } };
        if (row.SlotRecreatedAt is { } recreated)
        {
            description.SlotRecreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(recreated, DateTimeKind.Utc));
        }
        var buffered = groups.Find(group)?.Lag() ?? [];

        await using var batch = new NpgsqlBatch(await store.DataSource.OpenConnectionAsync(cancellationToken));
        batch.BatchCommands.Add(BatchCommand(
            $"SELECT m.member_id, m.last_heartbeat FROM eventstream.group_members m WHERE m.group_name = $1 AND {LiveMember} ORDER BY m.member_id", group));
        batch.BatchCommands.Add(BatchCommand(
            "SELECT l.shard_id, l.owner, l.new_owner, l.epoch, l.last_heartbeat, p.commit_lsn, p.ordinal, p.event_id, p.node " +
            "FROM eventstream.leases l LEFT JOIN eventstream.positions p ON p.consumer_group = l.consumer_group AND p.shard_id = l.shard_id " +
            "WHERE l.consumer_group = $1 ORDER BY l.shard_id", group));
        batch.BatchCommands.Add(BatchCommand(
            "SELECT broker_id, address, epoch, acquired_at, expires_at FROM eventstream.group_coordinators " +
            "WHERE group_name = $1 AND expires_at > now()", group));
        batch.BatchCommands.Add(BatchCommand("SELECT shard, events, bytes, oldest_time FROM eventstream.group_lag($1)", group));
        await using (batch.Connection)
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            var members = new Dictionary<string, GroupMember>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken))
            {
                var member = new GroupMember { MemberId = reader.GetString(0), LastHeartbeat = Timestamp.FromDateTime(reader.GetDateTime(1)) };
                members[member.MemberId] = member;
                description.Members.Add(member);
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var shard = new ShardState
                {
                    Shard = reader.GetInt32(0),
                    Owner = reader.IsDBNull(1) ? "" : reader.GetString(1),
                    NewOwner = reader.IsDBNull(2) ? "" : reader.GetString(2),
                    Epoch = reader.GetInt64(3),
                };
                if (!reader.IsDBNull(4))
                {
                    shard.LastHeartbeat = Timestamp.FromDateTime(reader.GetDateTime(4));
                }
                if (!reader.IsDBNull(5))
                {
                    shard.Committed = EventMessages.ToMessage(new EventPosition(
                        (ulong)reader.GetFieldValue<NpgsqlLogSequenceNumber>(5), (uint)reader.GetInt64(6), reader.GetInt64(7)) { Node = reader.GetInt32(8) });
                }
                if (buffered.TryGetValue(shard.Shard, out var pending))
                {
                    (shard.BufferedEvents, shard.BufferedBytes) = (pending.Events, pending.Bytes);
                }
                if (members.TryGetValue(shard.Owner, out var owner))
                {
                    owner.Shards.Add(shard.Shard);
                }
                description.Shards.Add(shard);
            }
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                description.Coordinator = new Coordinator
                {
                    BrokerId = reader.GetString(0),
                    Address = reader.GetString(1),
                    Epoch = reader.GetInt64(2),
                    AcquiredAt = Timestamp.FromDateTime(reader.GetDateTime(3)),
                    ExpiresAt = Timestamp.FromDateTime(reader.GetDateTime(4)),
                };
            }
            await reader.NextResultAsync(cancellationToken);
            var shards = description.Shards.ToDictionary(s => s.Shard);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (shards.TryGetValue(reader.GetInt32(0), out var shard))
                {
                    shard.LagEvents = reader.GetInt64(1);
                    shard.LagBytes = reader.GetInt64(2);
                    if (!reader.IsDBNull(3))
                    {
                        shard.OldestUncommittedEventTime = Timestamp.FromDateTime(reader.GetDateTime(3));
                    }
                }
            }
        }
        description.SlotLagBytes = await SlotLagAsync(group, cancellationToken);
        return description;
    }

    /// <summary>Deletes a group with its positions and its replication slot (the WAL it held is released).</summary>
    public async Task DeleteAsync(string group, CancellationToken cancellationToken)
    {
        ConsumerGroups.ValidateName(group);
        _ = await store.LoadGroupAsync(group, cancellationToken) ?? throw NotFound(group);
        // The broker running the group must stop it before its slot can go.
        await groups.ThrowIfRunElsewhereAsync(group, cancellationToken);
        await groups.StopAsync(group);
        await DropSlotsAsync(group, cancellationToken);
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command("DELETE FROM eventstream.consumer_groups WHERE group_name = $1", group);
        command.Connection = connection;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Moves a group to a start point: its positions are forgotten and its slot recreated, so it
    /// reads again from the table. Its members must have left.
    /// </summary>
    public async Task ResetAsync(string group, StartPoint? start, CancellationToken cancellationToken)
    {
        ConsumerGroups.ValidateName(group);
        DateTime? from = StartPoints.From(start);
        _ = await store.LoadGroupAsync(group, cancellationToken) ?? throw NotFound(group);
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var count = Command($"SELECT count(*) FROM eventstream.group_members m WHERE m.group_name = $1 AND {LiveMember}", group);
        count.Connection = connection;
        if ((long)(await count.ExecuteScalarAsync(cancellationToken))! > 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Group '{group}' has active members; stop its consumers before resetting it."));
        }
        await groups.ThrowIfRunElsewhereAsync(group, cancellationToken);
        await groups.StopAsync(group);
        await DropSlotsAsync(group, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sql in new[]
        {
            "DELETE FROM eventstream.positions WHERE consumer_group = $1",
            "UPDATE eventstream.leases SET owner = NULL, new_owner = NULL, epoch = epoch + 1, last_heartbeat = NULL WHERE consumer_group = $1",
        })
        {
            await using var command = Command(sql, group);
            command.Connection = connection;
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var update = Command(
            // Its slot is gone by choice: the next one starts the group afresh, it recovers nothing.
            "UPDATE eventstream.consumer_groups SET backfill_from = $2, backfill_until = NULL, backfill_done = ($2 IS NULL), slot_created_at = NULL " +
            "WHERE group_name = $1",
            group, from.HasValue ? from.Value : DBNull.Value))
        {
            update.Parameters[1].NpgsqlDbType = NpgsqlDbType.TimestampTz;
            update.Connection = connection;
            update.Transaction = transaction;
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The WAL the group's slots hold, summed over the nodes.</summary>
    private async Task<long> SlotLagAsync(string group, CancellationToken cancellationToken)
    {
        long lag = 0;
        foreach (var node in (await topology.GetAsync(refresh: false, cancellationToken)).Nodes)
        {
            await using var command = topology.DataSourceOf(node).CreateCommand(
                "SELECT coalesce(sum(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::bigint FROM pg_replication_slots WHERE slot_name = $1");
            command.Parameters.Add(new NpgsqlParameter { Value = SlotNames.ForGroup(group) });
            lag += (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        return lag;
    }

    /// <summary>Drops the group's slot on every node.</summary>
    private async Task DropSlotsAsync(string group, CancellationToken cancellationToken)
    {
        foreach (var node in (await topology.GetAsync(refresh: true, cancellationToken)).Nodes)
        {
            await GroupSlot.DropAsync(topology.DataSourceOf(node), SlotNames.ForGroup(group), cancellationToken);
        }
    }

    private static RpcException NotFound(string group) => new(new Status(StatusCode.NotFound, $"Consumer group '{group}' does not exist."));

    private static NpgsqlBatchCommand BatchCommand(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    private static NpgsqlCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }
}
