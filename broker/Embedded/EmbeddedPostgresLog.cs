using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Embedded;

/// <summary>Log messages of the embedded PostgreSQL launcher; event ids 1000-1099.</summary>
internal static partial class EmbeddedPostgresLog
{
    [LoggerMessage(1000, LogLevel.Information, "Using PostgreSQL {MajorVersion} from {BinDirectory} (pg_cron installed: {HasPgCron})", EventName = "BinariesFound")]
    public static partial void BinariesFound(ILogger logger, int majorVersion, string binDirectory, bool hasPgCron);

    [LoggerMessage(1001, LogLevel.Information, "Running as root: PostgreSQL runs as the {Account} account", EventName = "RunningAsAccount")]
    public static partial void RunningAsAccount(ILogger logger, string account);

    [LoggerMessage(1002, LogLevel.Information, "Creating a PostgreSQL cluster in {Directory}", EventName = "CreatingCluster")]
    public static partial void CreatingCluster(ILogger logger, string directory);

    [LoggerMessage(1003, LogLevel.Warning, "A PostgreSQL server left running on {Directory} by a previous broker is stopped and started again", EventName = "StoppingOrphan")]
    public static partial void StoppingOrphan(ILogger logger, string directory);

    [LoggerMessage(1004, LogLevel.Information, "Starting PostgreSQL on 127.0.0.1:{Port} (log: {LogFile})", EventName = "Starting")]
    public static partial void Starting(ILogger logger, int port, string logFile);

    [LoggerMessage(1005, LogLevel.Warning, "Port {Port} was taken before PostgreSQL could bind it; trying another", EventName = "PortTaken")]
    public static partial void PortTaken(ILogger logger, int port);

    [LoggerMessage(1006, LogLevel.Information, "Created database {Database}", EventName = "DatabaseCreated")]
    public static partial void DatabaseCreated(ILogger logger, string database);

    [LoggerMessage(1007, LogLevel.Information, "PostgreSQL is ready on 127.0.0.1:{Port}, database {Database}", EventName = "Ready")]
    public static partial void Ready(ILogger logger, int port, string database);

    [LoggerMessage(1008, LogLevel.Information, "Stopping PostgreSQL", EventName = "Stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1009, LogLevel.Error, "PostgreSQL did not stop cleanly: {Printed}", EventName = "StopFailed")]
    public static partial void StopFailed(ILogger logger, string printed);

    [LoggerMessage(1010, LogLevel.Warning, "The unix socket path under {Directory} is too long; PostgreSQL listens on TCP only", EventName = "SocketPathTooLong")]
    public static partial void SocketPathTooLong(ILogger logger, string directory);

    [LoggerMessage(1011, LogLevel.Information, "PostgreSQL stopped", EventName = "Stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1012, LogLevel.Information, "PostgreSQL started again on port {Port}", EventName = "Restarted")]
    public static partial void Restarted(ILogger logger, int port);

    [LoggerMessage(1013, LogLevel.Warning, "Starting PostgreSQL again failed (attempt {Attempt}): {Reason}", EventName = "RestartFailed")]
    public static partial void RestartFailed(ILogger logger, int attempt, string reason);
}
