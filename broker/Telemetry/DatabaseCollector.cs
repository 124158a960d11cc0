// Owns the periodic read of lag, groups and slots from the database, and the gauges that report it.
using System.Diagnostics.Metrics;
using EventStream.Broker.Citus;
using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Telemetry;

/// <summary>
/// Reads every group's lag (<c>eventstream.group_lag</c>, sql/013), the groups' members and lease
/// epochs and the replication slots of every node, every <see cref="TelemetryOptions.LagInterval"/>,
/// and reports the last read through observable instruments. The figures come from the database,
/// so every broker sharing it reports the same, whichever runs a group; a scrape costs no query.
/// </summary>
internal sealed partial class DatabaseCollector : BackgroundService
{
    private const string GroupsSql = """
        SELECT g.group_name,
               (SELECT count(*) FROM eventstream.group_members m
                WHERE m.group_name = g.group_name AND m.last_heartbeat >= now() - m.session_timeout),
               (SELECT coalesce(sum(l.epoch), 0)::bigint FROM eventstream.leases l WHERE l.consumer_group = g.group_name),
               (SELECT coalesce(max(c.epoch), 0)::bigint FROM eventstream.group_coordinators c WHERE c.group_name = g.group_name)
        FROM eventstream.consumer_groups g
        """;

    private const string LagSql = """
        SELECT g.group_name, l.shard, l.events, l.bytes, l.oldest_time
        FROM eventstream.consumer_groups g CROSS JOIN LATERAL eventstream.group_lag(g.group_name) l
        """;

    // wal_status 'lost': PostgreSQL invalidated the slot (it passed max_slot_wal_keep_size).
    private const string SlotsSql = """
        SELECT slot_name, active, wal_status = 'lost',
               coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint
        FROM pg_replication_slots WHERE starts_with(slot_name, $1)
        """;

    private readonly DatabaseEndpoint _database;
    private readonly ClusterTopology _topology;
    private readonly TelemetryOptions _options;
    private readonly ILogger<DatabaseCollector> _logger;
    private volatile DatabaseSnapshot _snapshot = DatabaseSnapshot.Empty;

    public DatabaseCollector(DatabaseEndpoint database, ClusterTopology topology, BrokerMetrics metrics, IOptions<TelemetryOptions> options,
        ILogger<DatabaseCollector> logger)
    {
        _database = database;
        _topology = topology;
        _options = options.Value;
        _logger = logger;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("eventstream.group.lag", () => Lag(l => l.Events), "{message}",
            "Events of a group's topics stored after its committed position, per shard.");
        meter.CreateObservableGauge("eventstream.group.lag.bytes", () => Lag(l => l.Bytes), "By",
            "Key and payload bytes of those events.");
        meter.CreateObservableGauge("eventstream.group.lag.age", LagAge, "s",
            "Age of the oldest uncommitted event per group and shard (0 when none).");
        meter.CreateObservableGauge("eventstream.group.members", () => Groups(g => g.Members), "{member}",
            "Members of a group with a live session.");
        meter.CreateObservableCounter("eventstream.group.lease.changes", () => Groups(g => g.LeaseChanges), "{change}",
            "Shard lease changes of owner (rebalances, expiries, releases) of a group.");
        meter.CreateObservableCounter("eventstream.group.coordinator.changes", () => Groups(g => g.CoordinatorChanges), "{change}",
            "New coordinator tenures of a group (a broker took it over).");
        meter.CreateObservableGauge("eventstream.slot.wal_retained", () => Slots(s => s.WalRetainedBytes), "By",
            "WAL a group's replication slot holds back on its node.");
        meter.CreateObservableGauge("eventstream.slot.active", () => Slots(s => s.Active ? 1L : 0L), "{slot}",
            "1 while a broker streams the slot.");
        meter.CreateObservableGauge("eventstream.slot.invalidated", () => Slots(s => s.Invalidated ? 1L : 0L), "{slot}",
            "1 when PostgreSQL invalidated the slot (it passed max_slot_wal_keep_size).");
    }

    public DatabaseSnapshot Snapshot => _snapshot;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception)
        {
            return;
        }
        using var timer = new PeriodicTimer(_options.LagInterval);
        do
        {
            try
            {
                _snapshot = await ReadAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Kept: the last figures stay reported until a read succeeds again.
                LogReadFailed(_logger, e.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    /// <summary>Reads lag, groups and slots now.</summary>
    public async Task<DatabaseSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var dataSource = _database.DataSource;
        var groups = new List<GroupFigures>();
        var lag = new List<ShardLag>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using (var command = new NpgsqlCommand(GroupsSql, connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    groups.Add(new GroupFigures(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
                }
            }
            await using (var command = new NpgsqlCommand(LagSql, connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    lag.Add(new ShardLag(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3),
                        reader.IsDBNull(4) ? null : reader.GetDateTime(4)));
                }
            }
        }
        var groupOfSlot = groups.ToDictionary(g => SlotNames.ForGroup(g.Group), g => g.Group, StringComparer.Ordinal);
        var slots = new List<SlotFigures>();
        foreach (var node in (await _topology.GetAsync(refresh: false, cancellationToken)).Nodes)
        {
            await using var command = _topology.DataSourceOf(node).CreateCommand(SlotsSql);
            command.Parameters.Add(new NpgsqlParameter { Value = SlotNames.Prefix });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var slot = reader.GetString(0);
                slots.Add(new SlotFigures(slot, groupOfSlot.GetValueOrDefault(slot, ""), node.Id, reader.GetInt64(3), reader.GetBoolean(1),
                    !reader.IsDBNull(2) && reader.GetBoolean(2)));
            }
        }
        return new DatabaseSnapshot(lag, groups, slots, DateTime.UtcNow);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private IEnumerable<Measurement<long>> Lag(Func<ShardLag, long> value) =>
        _snapshot.Lag.Select(l => new Measurement<long>(value(l), LagTags(l)));

    private IEnumerable<Measurement<double>> LagAge()
    {
        var snapshot = _snapshot;
        return snapshot.Lag.Select(l => new Measurement<double>(
            l.OldestTime is { } oldest ? Math.Max(0, (snapshot.ReadAt - oldest).TotalSeconds) : 0, LagTags(l)));
    }

    private IEnumerable<Measurement<long>> Groups(Func<GroupFigures, long> value) =>
        _snapshot.Groups.Select(g => new Measurement<long>(value(g),
            new KeyValuePair<string, object?>("messaging.system", BrokerMetrics.System),
            new KeyValuePair<string, object?>("messaging.consumer.group.name", g.Group)));

    private IEnumerable<Measurement<long>> Slots(Func<SlotFigures, long> value) =>
        _snapshot.Slots.Select(s => new Measurement<long>(value(s),
            new KeyValuePair<string, object?>("eventstream.slot.name", s.Slot),
            new KeyValuePair<string, object?>("messaging.consumer.group.name", s.Group),
            new KeyValuePair<string, object?>("eventstream.node", s.Node)));

    private static KeyValuePair<string, object?>[] LagTags(ShardLag l) =>
    [
        new("messaging.system", BrokerMetrics.System),
        new("messaging.consumer.group.name", l.Group),
        new("eventstream.shard", l.Shard),
    ];

    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Reading lag, groups and slots for the metrics failed: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
