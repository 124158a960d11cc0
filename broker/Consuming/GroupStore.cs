using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using Grpc.Core;
using EventStream.Protocol.V1;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace EventStream.Broker.Consuming;

/// <summary>The SQL side of consumer groups (sql/005, sql/009): groups, leases, positions.</summary>
internal sealed class GroupStore(DatabaseEndpoint database, ClusterTopology topology, IOptions<ConsumeOptions> options)
{
    private const int MaxCommitAttempts = 3;
    private readonly WalEnds _walEnds = new(topology);

    public NpgsqlDataSource DataSource => database.DataSource;

    /// <summary>
    /// Creates the group (with its start point) or updates its topics; true when created.
    /// RESOURCE_EXHAUSTED when it is new and the database holds <see cref="ConsumeOptions.MaxGroups"/> groups.
    /// </summary>
    public async Task<bool> EnsureGroupAsync(string group, TopicPatterns topics, DateTime? startFrom, CancellationToken cancellationToken)
    {
        // Joins that would create groups at the same time take turns, or both could pass the count.
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var turn = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('eventstream.group_limit'))", connection, transaction))
        {
            await turn.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = new NpgsqlCommand(
            "SELECT CASE WHEN EXISTS (SELECT FROM eventstream.consumer_groups WHERE group_name = $1) " +
            "OR (SELECT count(*) FROM eventstream.consumer_groups) < $4 THEN eventstream.ensure_group($1, $2, $3) END",
            connection, transaction)
        {
            Parameters =
            {
                new() { Value = group },
                new() { Value = topics.Patterns.ToArray() },
                new() { Value = startFrom.HasValue ? startFrom.Value : DBNull.Value },
                new() { Value = (long)options.Value.MaxGroups },
            },
        };
        var created = await command.ExecuteScalarAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created is bool isNew
            ? isNew
            : throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The database holds {options.Value.MaxGroups} consumer groups, the most allowed (EventStream:Consume:MaxGroups); delete unused ones first."));
    }

    /// <summary>RESOURCE_EXHAUSTED when a commit has more than <see cref="ConsumeOptions.MaxCommitEntries"/> entries.</summary>
    public void CheckCommitEntries(int count)
    {
        if (count > options.Value.MaxCommitEntries)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The commit has {count} entries; at most {options.Value.MaxCommitEntries} are allowed (EventStream:Consume:MaxCommitEntries)."));
        }
    }

    public async Task<GroupRow?> LoadGroupAsync(string group, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT topics, backfill_from, backfill_until, backfill_done, created_at, slot_created_at, slot_recreated_at " +
            "FROM eventstream.consumer_groups WHERE group_name = $1", group);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new GroupRow(
            reader.GetFieldValue<string[]>(0),
            // -infinity (every retained event) reads as DateTime.MinValue.
            reader.IsDBNull(1) ? null : reader.GetDateTime(1),
            reader.IsDBNull(2) ? null : reader.GetDateTime(2),
            reader.GetBoolean(3),
            reader.GetDateTime(4),
            reader.IsDBNull(5) ? null : reader.GetDateTime(5),
            reader.IsDBNull(6) ? null : reader.GetDateTime(6));
    }

    public Task MarkBackfillStartedAsync(string group, DateTime until, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE eventstream.consumer_groups SET backfill_until = $2 WHERE group_name = $1", cancellationToken, group, until);

    /// <summary>
    /// The group's slot is gone: before a new one is made, records that the group reads the table
    /// again from <paramref name="from"/>, so a restart meanwhile still does.
    /// </summary>
    public Task MarkSlotLostAsync(string group, DateTime from, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE eventstream.consumer_groups SET backfill_from = $2, backfill_until = NULL, backfill_done = false, slot_recreated_at = now() " +
            "WHERE group_name = $1", cancellationToken, group, from);

    /// <summary>Records that the group has had a slot: from now on, a missing slot is a lost one.</summary>
    public Task MarkSlotCreatedAsync(string group, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE eventstream.consumer_groups SET slot_created_at = now() WHERE group_name = $1", cancellationToken, group);

    /// <summary>The ingest times of events by id (those still stored), among the given topics.</summary>
    public async Task<Dictionary<long, DateTime>> IngestTimesAsync(int[] topicIds, long[] eventIds, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT event_id, ingest_time FROM eventstream.events WHERE topic_id = ANY($1) AND event_id = ANY($2)", topicIds, eventIds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var times = new Dictionary<long, DateTime>();
        while (await reader.ReadAsync(cancellationToken))
        {
            times[reader.GetInt64(0)] = reader.GetDateTime(1);
        }
        return times;
    }

    public Task MarkBackfillDoneAsync(string group, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE eventstream.consumer_groups SET backfill_done = true WHERE group_name = $1", cancellationToken, group);

    public async Task<Dictionary<int, EventPosition>> LoadPositionsAsync(string group, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT shard_id, commit_lsn, ordinal, event_id, node FROM eventstream.positions WHERE consumer_group = $1", group);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var positions = new Dictionary<int, EventPosition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            positions[reader.GetInt32(0)] = new EventPosition(
                (ulong)reader.GetFieldValue<NpgsqlLogSequenceNumber>(1), (uint)reader.GetInt64(2), reader.GetInt64(3)) { Node = reader.GetInt32(4) };
        }
        return positions;
    }

    /// <summary>
    /// One balancing round for a member: renews it and reads the group's leases
    /// (eventstream.lease_states), decides with <see cref="LeaseBalancer"/>, and applies the claims by
    /// compare-and-set on their epochs (eventstream.apply_lease_claims). Returns the member's leases.
    /// </summary>
    public Task<IReadOnlyList<LeaseGrant>> ObtainLeasesAsync(string group, string member, TimeSpan sessionTimeout, CancellationToken cancellationToken) =>
        ObtainLeasesAsync(database.DataSource, group, member, sessionTimeout, cancellationToken);

    /// <inheritdoc cref="ObtainLeasesAsync(string, string, TimeSpan, CancellationToken)"/>
    public static async Task<IReadOnlyList<LeaseGrant>> ObtainLeasesAsync(
        NpgsqlDataSource dataSource, string group, string member, TimeSpan sessionTimeout, CancellationToken cancellationToken)
    {
        var leases = new List<ShardLeaseState>();
        var liveMembers = 1;
        await using (var command = Command(dataSource,
            "SELECT shard, owner, new_owner, epoch, owner_expired, live_members FROM eventstream.lease_states($1, $2, $3)", group, member, sessionTimeout))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                leases.Add(new ShardLeaseState(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3), reader.GetBoolean(4)));
                liveMembers = reader.GetInt32(5);
            }
        }
        var claims = LeaseBalancer.Plan(member, leases, liveMembers);
        var takes = claims.Where(c => !c.Ask).ToList();
        var asks = claims.Where(c => c.Ask).ToList();
        await using var apply = Command(dataSource,
            "SELECT shard, epoch, handing_over FROM eventstream.apply_lease_claims($1, $2, $3, $4, $5, $6)", group, member,
            takes.Select(c => c.Shard).ToArray(), takes.Select(c => c.Epoch).ToArray(),
            asks.Select(c => c.Shard).ToArray(), asks.Select(c => c.Epoch).ToArray());
        await using var grants = await apply.ExecuteReaderAsync(cancellationToken);
        var result = new List<LeaseGrant>();
        while (await grants.ReadAsync(cancellationToken))
        {
            result.Add(new LeaseGrant(grants.GetInt32(0), grants.GetInt64(1), grants.GetBoolean(2)));
        }
        return result;
    }

    public Task ReleaseLeaseAsync(string group, int shard, string member, CancellationToken cancellationToken) =>
        ExecuteAsync("SELECT eventstream.release_lease($1, $2, $3)", cancellationToken, group, shard, member);

    public Task LeaveAsync(string group, string member, CancellationToken cancellationToken) =>
        ExecuteAsync("SELECT eventstream.leave_group($1, $2)", cancellationToken, group, member);

    /// <summary>
    /// Records a member's commits, one result per commit in the order given: INVALID_ARGUMENT for a
    /// shard outside the cluster, a missing position, or one never delivered (see <see cref="WalEnds"/>);
    /// RESOURCE_EXHAUSTED past <see cref="ConsumeOptions.MaxCommitEntries"/>; FAILED_PRECONDITION when the member does not
    /// hold the shard under that epoch. The valid ones go to the database in one statement
    /// (eventstream.commit_positions, sql/009). <paramref name="committed"/> sees each accepted commit.
    /// </summary>
    public async Task<CommitResponse> CommitAllAsync(
        string group, string member, IEnumerable<ShardCommit> commits, int shardCount, Action<int, EventPosition>? committed, CancellationToken cancellationToken)
    {
        var entries = commits.ToList();
        CheckCommitEntries(entries.Count);
        var results = new List<CommitResult>();
        var valid = new List<(int Index, int Shard, long Epoch, EventPosition Position)>();
        foreach (var commit in entries)
        {
            if (commit.Shard < 0 || commit.Shard >= shardCount || commit.Position is null)
            {
                results.Add(new CommitResult { Shard = commit.Shard, Code = (int)StatusCode.InvalidArgument, Message = "A commit needs a shard of the cluster and a position." });
                continue;
            }
            if (await _walEnds.ProblemAsync(commit.Position.Node, commit.Position.CommitLsn, cancellationToken) is { } problem)
            {
                results.Add(new CommitResult { Shard = commit.Shard, Code = (int)StatusCode.InvalidArgument, Message = $"Shard {commit.Shard}: {problem}." });
                continue;
            }
            var position = new EventPosition(commit.Position.CommitLsn, commit.Position.Ordinal, commit.Position.EventId) { Node = commit.Position.Node };
            valid.Add((results.Count, commit.Shard, commit.Epoch, position));
            results.Add(null!);
        }
        var accepted = valid.Count == 0 ? [] : await CommitPositionsAsync(group, member, valid, cancellationToken);
        for (var i = 0; i < valid.Count; i++)
        {
            var (index, shard, epoch, position) = valid[i];
            if (!accepted[i])
            {
                results[index] = new CommitResult
                {
                    Shard = shard,
                    Code = (int)StatusCode.FailedPrecondition,
                    Message = $"Member '{member}' does not hold shard {shard} under epoch {epoch}: the shard moved to another member.",
                };
                continue;
            }
            committed?.Invoke(shard, position);
            results[index] = new CommitResult { Shard = shard, Code = (int)StatusCode.OK };
        }
        var response = new CommitResponse();
        response.Results.Add(results);
        return response;
    }

    /// <summary>One call of eventstream.commit_positions: per commit, in order, whether it was accepted.</summary>
    private async Task<bool[]> CommitPositionsAsync(
        string group, string member, List<(int Index, int Shard, long Epoch, EventPosition Position)> commits, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var command = Command(
                // Npgsql writes no pg_lsn arrays: the LSNs go as text.
                "SELECT accepted FROM eventstream.commit_positions($1, $2, $3, $4, $5, $6::pg_lsn[], $7, $8)",
                group, member,
                commits.Select(c => c.Shard).ToArray(),
                commits.Select(c => c.Epoch).ToArray(),
                commits.Select(c => c.Position.Node).ToArray(),
                commits.Select(c => new NpgsqlLogSequenceNumber(c.Position.CommitLsn).ToString()).ToArray(),
                commits.Select(c => (long)c.Position.Ordinal).ToArray(),
                commits.Select(c => c.Position.EventId).ToArray());
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var accepted = new bool[commits.Count];
                for (var i = 0; await reader.ReadAsync(cancellationToken); i++)
                {
                    accepted[i] = reader.GetBoolean(0);
                }
                return accepted;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < MaxCommitAttempts)
            {
                // Balancing rounds lock leases in shard order as this does, but leaves, releases and
                // other members' claims need not; the commit, rolled back whole, is simply made again.
            }
        }
    }

    /// <summary>Every topic, by id.</summary>
    public async Task<Dictionary<int, string>> LoadTopicsAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT topic_id, name FROM eventstream.topics");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var topics = new Dictionary<int, string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            topics[reader.GetInt32(0)] = reader.GetString(1);
        }
        return topics;
    }

    private NpgsqlCommand Command(string sql, params object[] parameters) => Command(database.DataSource, sql, parameters);

    private static NpgsqlCommand Command(NpgsqlDataSource dataSource, string sql, params object[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }
        return command;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}

/// <summary>A group as stored.</summary>
internal sealed record GroupRow(
    string[] Topics, DateTime? BackfillFrom, DateTime? BackfillUntil, bool BackfillDone, DateTime CreatedAt,
    DateTime? SlotCreatedAt, DateTime? SlotRecreatedAt);

/// <summary>A shard a member holds, and whether another member asked for it.</summary>
internal readonly record struct LeaseGrant(int Shard, long Epoch, bool HandingOver);
