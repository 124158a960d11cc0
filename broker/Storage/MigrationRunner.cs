using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>
/// Applies the <c>sql/</c> migrations a database lacks, each in its own transaction, under a
/// session advisory lock so brokers starting together apply each version once.
/// </summary>
/// <remarks>
/// A changed checksum of an applied file is logged as a warning, not an error: an applied
/// migration never runs again, so the edit changes nothing on this database, and refusing to
/// start over, say, a reworded comment would turn a harmless edit into an outage. Real schema
/// changes go in a new file.
/// </remarks>
public sealed class MigrationRunner
{
    /// <summary>
    /// Advisory lock key ("EvStMigr" in ASCII). Fixed forever: every broker version must
    /// take the same lock. Advisory locks are per database.
    /// </summary>
    internal const long LockKey = 0x4576_5374_4D69_6772;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;

    public MigrationRunner(NpgsqlDataSource dataSource, ILogger logger)
        : this(dataSource, logger, MigrationSource.Load())
    {
    }

    internal MigrationRunner(NpgsqlDataSource dataSource, ILogger logger, IReadOnlyList<Migration> migrations)
    {
        _dataSource = dataSource;
        _logger = logger;
        Migrations = migrations;
    }

    /// <summary>All known migrations, in version order.</summary>
    public IReadOnlyList<Migration> Migrations { get; }

    /// <summary>Applies the missing migrations; returns those this call applied.</summary>
    public async Task<IReadOnlyList<Migration>> ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        StorageLog.WaitingForMigrationLock(_logger);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", [LockKey], cancellationToken);
        try
        {
            await PgCronSetup.EnsureAsync(connection, _logger, cancellationToken);
            var applied = await ReadAppliedAsync(connection, cancellationToken);
            var appliedNow = new List<Migration>();
            foreach (var migration in Migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        StorageLog.MigrationChanged(_logger, migration.Version, migration.Name, checksum, migration.Checksum);
                    }

                    continue;
                }

                await ApplyOneAsync(connection, migration, cancellationToken);
                appliedNow.Add(migration);
            }

            if (Migrations.Count > 0)
            {
                StorageLog.SchemaUpToDate(_logger, Migrations[^1].Version);
            }

            return appliedNow;
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    private async Task ApplyOneAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, migration.Sql, [], cancellationToken);
            await ExecuteAsync(
                connection,
                "INSERT INTO eventstream.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                [migration.Version, migration.Name, migration.Checksum],
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            StorageLog.MigrationFailed(_logger, migration.Version, migration.Name, e);
            throw;
        }

        StorageLog.MigrationApplied(_logger, migration.Version, migration.Name);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('eventstream.schema_migrations') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return applied;
            }
        }

        await using var command = new NpgsqlCommand("SELECT version, checksum FROM eventstream.schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task UnlockAsync(NpgsqlConnection connection)
    {
        try
        {
            // Not cancellable: a held lock would block every other broker's start.
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock($1)", [LockKey], CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The session is gone, and its lock with it.
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, object[] parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
