using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Storage;

/// <summary>Log messages of the database connection and migrations; event ids 1100-1199.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1100, LogLevel.Debug, "Waiting for the migration lock", EventName = "WaitingForMigrationLock")]
    public static partial void WaitingForMigrationLock(ILogger logger);

    [LoggerMessage(1101, LogLevel.Information, "Applied migration {Version} {Name}", EventName = "MigrationApplied")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(1102, LogLevel.Debug, "Schema is up to date at version {Version}", EventName = "SchemaUpToDate")]
    public static partial void SchemaUpToDate(ILogger logger, int version);

    [LoggerMessage(1103, LogLevel.Warning, "Migration {Version} {Name} was changed after it was applied (applied checksum {AppliedChecksum}, file checksum {FileChecksum}); it is not applied again, put changes in a new migration", EventName = "MigrationChanged")]
    public static partial void MigrationChanged(ILogger logger, int version, string name, string appliedChecksum, string fileChecksum);

    [LoggerMessage(1104, LogLevel.Error, "Migration {Version} {Name} failed", EventName = "MigrationFailed")]
    public static partial void MigrationFailed(ILogger logger, int version, string name, Exception exception);

    [LoggerMessage(1105, LogLevel.Information, "Created the pg_cron extension", EventName = "PgCronCreated")]
    public static partial void PgCronCreated(ILogger logger);

    [LoggerMessage(1106, LogLevel.Information, "pg_cron is not used: {Reason}", EventName = "PgCronUnavailable")]
    public static partial void PgCronUnavailable(ILogger logger, string reason);

    [LoggerMessage(1107, LogLevel.Warning, "Could not create the pg_cron extension; continuing without it", EventName = "PgCronFailed")]
    public static partial void PgCronFailed(ILogger logger, Exception exception);

    [LoggerMessage(1110, LogLevel.Information, "Using the PostgreSQL server from ConnectionStrings:EventStream at {Host}:{Port}, database {Database}", EventName = "UsingConfiguredServer")]
    public static partial void UsingConfiguredServer(ILogger logger, string? host, int port, string? database);

    [LoggerMessage(1111, LogLevel.Debug, "Waiting for PostgreSQL: {Reason}", EventName = "WaitingForServer")]
    public static partial void WaitingForServer(ILogger logger, string reason);

    [LoggerMessage(1114, LogLevel.Information, "Citus mode: events are distributed by shard over the cluster's nodes", EventName = "CitusMode")]
    public static partial void CitusMode(ILogger logger);

    [LoggerMessage(1112, LogLevel.Information, "Database ready", EventName = "DatabaseReady")]
    public static partial void DatabaseReady(ILogger logger);

    [LoggerMessage(1113, LogLevel.Critical, "The database could not be made ready; the broker stops", EventName = "DatabaseFailed")]
    public static partial void DatabaseFailed(ILogger logger, Exception exception);

    [LoggerMessage(1115, LogLevel.Error, "The embedded PostgreSQL is no longer running; starting it again (attempt {Attempt} of {MaxAttempts})", EventName = "EmbeddedServerDied")]
    public static partial void EmbeddedServerDied(ILogger logger, int attempt, int maxAttempts);

    [LoggerMessage(1116, LogLevel.Error, "The embedded PostgreSQL could not be started again ({Failed} of {MaxAttempts} attempts failed); after the last the broker stops", EventName = "EmbeddedRestartFailed")]
    public static partial void EmbeddedRestartFailed(ILogger logger, int failed, int maxAttempts, Exception exception);

    [LoggerMessage(1117, LogLevel.Warning, "PostgreSQL at {Host}:{Port} is shutting down; its replication streams close and reconnect when it is back", EventName = "ServerShuttingDown")]
    public static partial void ServerShuttingDown(ILogger logger, string host, int port);
}
