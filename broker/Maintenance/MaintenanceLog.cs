using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Maintenance;

/// <summary>Log messages of retention and partition maintenance; event ids 1300-1399.</summary>
internal static partial class MaintenanceLog
{
    [LoggerMessage(1300, LogLevel.Debug, "Created {Count} partitions ahead of time", EventName = "PartitionsCreated")]
    public static partial void PartitionsCreated(ILogger logger, int count);

    [LoggerMessage(1301, LogLevel.Debug, "Partitions not checked: the events table is locked; retrying soon", EventName = "PartitionsDeferred")]
    public static partial void PartitionsDeferred(ILogger logger);

    [LoggerMessage(1302, LogLevel.Debug, "pg_cron job {JobId} runs maintenance every minute", EventName = "PgCronScheduled")]
    public static partial void PgCronScheduled(ILogger logger, long jobId);

    [LoggerMessage(1303, LogLevel.Warning, "Could not schedule maintenance with pg_cron; the broker runs it itself", EventName = "PgCronScheduleFailed")]
    public static partial void PgCronScheduleFailed(ILogger logger, Exception exception);

    [LoggerMessage(1304, LogLevel.Information, "Maintenance is left to pg_cron job {JobId}; the broker checks it every {RecheckInterval}", EventName = "LeftToPgCron")]
    public static partial void LeftToPgCron(ILogger logger, long jobId, TimeSpan recheckInterval);

    [LoggerMessage(1305, LogLevel.Information, "The broker runs maintenance itself every {Interval}: {Reason}", EventName = "BrokerRunsMaintenance")]
    public static partial void BrokerRunsMaintenance(ILogger logger, TimeSpan interval, string reason);

    [LoggerMessage(1306, LogLevel.Warning, "pg_cron's maintenance run started at {Start} failed: {Message}", EventName = "PgCronRunFailed")]
    public static partial void PgCronRunFailed(ILogger logger, DateTime? start, string? message);

    [LoggerMessage(1307, LogLevel.Debug, "Maintenance ran in {DurationMs} ms: {Dropped} partitions dropped, {Swept} swept, {Rows} events deleted, {Producers} producer states expired, {Created} partitions created; complete: {Complete}", EventName = "MaintenanceRan")]
    public static partial void MaintenanceRan(ILogger logger, double durationMs, int dropped, int swept, long rows, long producers, int created, bool complete);

    [LoggerMessage(1308, LogLevel.Debug, "Maintenance skipped: another run holds the lock", EventName = "MaintenanceSkipped")]
    public static partial void MaintenanceSkipped(ILogger logger);

    [LoggerMessage(1309, LogLevel.Warning, "Maintenance failed; retrying in {Delay}", EventName = "MaintenanceFailed")]
    public static partial void MaintenanceFailed(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(1310, LogLevel.Debug, "pg_cron job {JobId} runs maintenance (last run: {LastStatus} at {LastStart})", EventName = "PgCronChecked")]
    public static partial void PgCronChecked(ILogger logger, long jobId, string? lastStatus, DateTime? lastStart);

    [LoggerMessage(1311, LogLevel.Warning, "pg_cron has not started job {JobId} for {StaleAfter}; the broker runs maintenance until it does, and scheduled the job again as job {NewJobId} so pg_cron reloads it", EventName = "PgCronJobStale")]
    public static partial void PgCronJobStale(ILogger logger, long jobId, TimeSpan staleAfter, long? newJobId);
}
