using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Storage;

/// <summary>The migration runner, each test on a database of its own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationRunnerTests(PostgresFixture fixture)
{
    private const int MigrationChanged = 1103;
    private const int PgCronUnavailable = 1106;

    [Fact]
    public async Task Migrations_create_the_schema_and_record_each_version()
    {
        var ct = TestTimeout.Token();
        await using var dataSource = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        var runner = new MigrationRunner(dataSource, new RecordingLogger());

        var applied = await runner.ApplyAsync(ct);

        Assert.Equal(runner.Migrations, applied);
        Assert.Equal(
            runner.Migrations.Select(m => (m.Version, m.Checksum)),
            await ReadLedgerAsync(dataSource, ct));
        Assert.Equal(32, await ScalarAsync<int>(dataSource, "SELECT shard_count FROM eventstream.cluster", ct));
    }

    [Fact]
    public async Task Reapplying_migrations_is_a_no_op()
    {
        var ct = TestTimeout.Token();
        await using var dataSource = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        await new MigrationRunner(dataSource, new RecordingLogger()).ApplyAsync(ct);
        var clusterId = await ScalarAsync<Guid>(dataSource, "SELECT id FROM eventstream.cluster", ct);
        var appliedAt = await ScalarAsync<DateTime>(dataSource, "SELECT max(applied_at) FROM eventstream.schema_migrations", ct);

        var again = await new MigrationRunner(dataSource, new RecordingLogger()).ApplyAsync(ct);

        Assert.Empty(again);
        Assert.Equal(clusterId, await ScalarAsync<Guid>(dataSource, "SELECT id FROM eventstream.cluster", ct));
        Assert.Equal(appliedAt, await ScalarAsync<DateTime>(dataSource, "SELECT max(applied_at) FROM eventstream.schema_migrations", ct));
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_version_exactly_once()
    {
        var ct = TestTimeout.Token();
        await using var dataSource = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        // Not idempotent on purpose: a second application would insert a second row.
        var migrations = MigrationSource.Load()
            .Append(MigrationSource.Parse("900_probe.sql", "CREATE TABLE eventstream.probe (n int); INSERT INTO eventstream.probe VALUES (1);"))
            .ToList();

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(
            _ => Task.Run(() => new MigrationRunner(dataSource, new RecordingLogger(), migrations).ApplyAsync(ct), ct)));

        Assert.Equal(migrations.Count, runs.Sum(r => r.Count));
        Assert.Equal(migrations.Count, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM eventstream.schema_migrations", ct));
        Assert.Equal(1, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM eventstream.probe", ct));
    }

    [Fact]
    public async Task Changed_applied_migration_is_logged_as_a_warning_and_not_reapplied()
    {
        var ct = TestTimeout.Token();
        await using var dataSource = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        await new MigrationRunner(dataSource, new RecordingLogger()).ApplyAsync(ct);
        await ExecuteAsync(dataSource, "UPDATE eventstream.schema_migrations SET checksum = 'edited' WHERE version = 1", ct);
        var log = new RecordingLogger();

        var applied = await new MigrationRunner(dataSource, log).ApplyAsync(ct);

        Assert.Empty(applied);
        var warning = Assert.Single(log.Entries, e => e.EventId.Id == MigrationChanged);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
    }

    [Fact]
    public async Task Failed_migration_is_rolled_back_and_releases_the_lock()
    {
        var ct = TestTimeout.Token();
        await using var dataSource = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        var broken = MigrationSource.Load()
            .Append(MigrationSource.Parse("900_broken.sql", "CREATE TABLE eventstream.half (n int); SELECT 1 / 0;"))
            .ToList();

        await Assert.ThrowsAsync<PostgresException>(() => new MigrationRunner(dataSource, new RecordingLogger(), broken).ApplyAsync(ct));

        Assert.False(await ScalarAsync<bool>(dataSource, "SELECT to_regclass('eventstream.half') IS NOT NULL", ct));
        Assert.Equal(MigrationSource.Load().Count, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM eventstream.schema_migrations", ct));
        Assert.Empty(await new MigrationRunner(dataSource, new RecordingLogger()).ApplyAsync(ct));
    }

    [Fact]
    public async Task Pg_cron_is_created_in_its_database_and_skipped_elsewhere()
    {
        var ct = TestTimeout.Token();
        var cronAvailable = await ScalarAsync<bool>(
            fixture.DataSource, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron')", ct);
        await using var other = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(ct));
        var otherLog = new RecordingLogger();

        await new MigrationRunner(fixture.DataSource, new RecordingLogger()).ApplyAsync(ct);
        await new MigrationRunner(other, otherLog).ApplyAsync(ct);

        var created = await ScalarAsync<bool>(fixture.DataSource, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')", ct);
        Assert.Equal(cronAvailable, created);
        Assert.True(otherLog.Has(PgCronUnavailable));
        Assert.False(await ScalarAsync<bool>(other, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')", ct));
    }

    [Fact]
    public async Task Migrations_run_as_an_ordinary_role_that_owns_the_database()
    {
        var ct = TestTimeout.Token();
        var role = "owner_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(fixture.DataSource, $"CREATE ROLE {role} LOGIN PASSWORD 'secret'", ct);
        var admin = new NpgsqlConnectionStringBuilder(await fixture.CreateDatabaseAsync(ct));
        await ExecuteAsync(fixture.DataSource, $"ALTER DATABASE {admin.Database} OWNER TO {role}", ct);
        var asOwner = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Username = role, Password = "secret" };
        await using var dataSource = NpgsqlDataSource.Create(asOwner.ConnectionString);
        var log = new RecordingLogger();

        var applied = await new MigrationRunner(dataSource, log).ApplyAsync(ct);

        Assert.Equal(MigrationSource.Load().Count, applied.Count);
        Assert.True(log.Has(PgCronUnavailable));
    }

    private static async Task<List<(int, string)>> ReadLedgerAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT version, checksum FROM eventstream.schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
