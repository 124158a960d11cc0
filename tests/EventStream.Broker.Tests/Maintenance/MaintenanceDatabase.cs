using EventStream.Broker.Maintenance;
using EventStream.Broker.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>A migrated database with helpers to plant topics and events at chosen ages.</summary>
/// <remarks>Ages are relative to the database's now(), the clock retention is judged by.</remarks>
internal sealed class MaintenanceDatabase : IAsyncDisposable
{
    private MaintenanceDatabase(NpgsqlDataSource dataSource) => DataSource = dataSource;

    public NpgsqlDataSource DataSource { get; }

    /// <summary>A fresh database of its own: pg_cron cannot be installed there.</summary>
    public static async Task<MaintenanceDatabase> CreateAsync(PostgresFixture fixture, CancellationToken cancellationToken) =>
        await MigrateAsync(await fixture.CreateDatabaseAsync(cancellationToken), cancellationToken);

    /// <summary>The fixture's own database, where pg_cron runs when installed.</summary>
    public static Task<MaintenanceDatabase> CronDatabaseAsync(PostgresFixture fixture, CancellationToken cancellationToken) =>
        MigrateAsync(fixture.Server.ConnectionString, cancellationToken);

    public static async Task<MaintenanceDatabase> MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        await new MigrationRunner(dataSource, NullLogger.Instance).ApplyAsync(cancellationToken);
        return new MaintenanceDatabase(dataSource);
    }

    /// <summary>One broker-timer round; this database has no pg_cron job, so the broker runs it.</summary>
    public async Task<MaintenanceSummary> RunRoundAsync(CancellationToken cancellationToken)
    {
        var round = await new MaintenanceRunner(DataSource, new MaintenanceOptions(), TimeProvider.System, NullLogger.Instance).RunRoundAsync(cancellationToken);
        Assert.Equal(MaintenanceMode.Broker, round.Mode);
        return round.Summary!;
    }

    public Task<int> CreateTopicAsync(TimeSpan retention, CancellationToken cancellationToken) =>
        ScalarAsync<int>(
            "INSERT INTO eventstream.topics (name, retention) VALUES ($1, $2) RETURNING topic_id",
            cancellationToken, "maintenance-" + Guid.NewGuid().ToString("N"), retention);

    public Task EnsurePartitionsAsync(TimeSpan behind, CancellationToken cancellationToken) =>
        ExecuteAsync("SELECT eventstream.ensure_partitions(behind => $1)", cancellationToken, behind);

    /// <summary>Inserts <paramref name="count"/> events of a topic with ingest_time = now() - age.</summary>
    public Task InsertEventsAsync(int topicId, TimeSpan age, CancellationToken cancellationToken, int count = 1) =>
        ExecuteAsync(
            """
            INSERT INTO eventstream.events (topic_id, shard, event_id, ingest_time, payload)
            SELECT $1, 0, g, now() - $2::interval, '\x00'::bytea FROM generate_series(1, $3) g
            """,
            cancellationToken, topicId, age, count);

    public Task<long> CountEventsAsync(int topicId, CancellationToken cancellationToken) =>
        ScalarAsync<long>("SELECT count(*) FROM eventstream.events WHERE topic_id = $1", cancellationToken, topicId);

    /// <summary>Name of the partition holding now() - age, or null when there is none.</summary>
    public async Task<string?> PartitionHoldingAsync(TimeSpan age, CancellationToken cancellationToken) =>
        await ScalarAsync<string?>(
            """
            SELECT c.relname::text FROM eventstream.event_partitions() e JOIN pg_class c ON c.oid = e.partition
            WHERE now() - $1::interval >= e.lower_bound AND now() - $1::interval < e.upper_bound
            """,
            cancellationToken, age);

    public Task<bool> PartitionExistsAsync(string name, CancellationToken cancellationToken) =>
        ScalarAsync<bool>("SELECT to_regclass(format('eventstream.%I', $1::text)) IS NOT NULL", cancellationToken, name);

    /// <summary>
    /// Moves the expiry bookkeeping <paramref name="by"/> into the past, as if that much time had
    /// passed since topics changed and partitions were swept (past the settle margin).
    /// </summary>
    public async Task AgeBookkeepingAsync(TimeSpan by, CancellationToken cancellationToken)
    {
        await ExecuteAsync("UPDATE eventstream.topic_expiry_changes SET changed_at = changed_at - $1", cancellationToken, by);
        await ExecuteAsync("UPDATE eventstream.partition_sweeps SET swept_at = swept_at - $1", cancellationToken, by);
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default! : (T)value;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    private NpgsqlCommand Command(string sql, object[] parameters)
    {
        var command = DataSource.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
