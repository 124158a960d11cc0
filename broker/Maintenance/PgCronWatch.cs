using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Maintenance;

/// <summary>
/// Decides whether pg_cron runs maintenance for the broker's database: schedules the job once,
/// then checks that it exists, is active, has a scheduler, and actually starts.
/// </summary>
/// <remarks>
/// pg_cron 1.4 (Debian 12) can miss a change to its jobs when many catalog changes happen at
/// once and then never starts the job, while everything looks fine. A job that has not started
/// for <see cref="StaleAfter"/> is therefore scheduled again (which makes pg_cron reload), and
/// the broker runs maintenance until pg_cron starts it. With <c>cron.log_run</c> off runs cannot
/// be seen, and the job is trusted.
/// </remarks>
internal sealed class PgCronWatch(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>pg_cron may load a new job at one minute and start it at the next; longer means stuck.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(3);

    /// <summary>
    /// On a server just started, pg_cron's scheduler fails until the broker's database exists and
    /// restarts a second later; the first check waits this long for it before taking over.
    /// </summary>
    private static readonly TimeSpan SchedulerStartGrace = TimeSpan.FromSeconds(5);

    private bool _scheduled;
    private bool _graceUsed;
    private bool _distrusted;
    private long? _watchedJob;
    private DateTimeOffset _watchedSince;
    private DateTimeOffset? _lastRecreate;
    private DateTime? _reportedFailure;

    /// <summary>The job when pg_cron runs maintenance; otherwise why the broker must.</summary>
    public async Task<(PgCronJob? Job, string? Reason)> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ScheduleOnceAsync(cancellationToken);
            var (installed, job) = await ReadAsync(cancellationToken);
            var reason = (installed, job) switch
            {
                (false, _) => "pg_cron is not installed in this database",
                (_, null) => "pg_cron has no maintenance job in this database",
                (_, { Active: false }) => $"pg_cron job {job.JobId} is paused",
                (_, { SchedulerRunning: false }) =>
                    "no pg_cron scheduler runs for this database (pg_cron not preloaded, or cron.database_name names another database)",
                _ => null,
            };
            if (reason is not null)
            {
                return (null, reason);
            }

            MaintenanceLog.PgCronChecked(logger, job!.JobId, job.LastStatus, job.LastStart);
            if (job.LastRunFailed && job.LastStart != _reportedFailure)
            {
                _reportedFailure = job.LastStart;
                MaintenanceLog.PgCronRunFailed(logger, job.LastStart, job.LastMessage);
            }

            if (!IsStale(job))
            {
                return (job, null);
            }

            await RecreateAsync(job, cancellationToken);
            return (null, $"pg_cron has not started its maintenance job for {StaleAfter}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return (null, $"this role may not use pg_cron ({e.MessageText})");
        }
    }

    private bool IsStale(PgCronJob job)
    {
        var now = timeProvider.GetUtcNow();
        if (job.JobId != _watchedJob)
        {
            _watchedJob = job.JobId;
            _watchedSince = now;
        }

        if (job.RanWithin(StaleAfter) || job.RunsLogged == false)
        {
            _distrusted = false;
            return false;
        }

        // A new job gets time for its first run; a distrusted one must prove itself by running.
        _distrusted |= now - _watchedSince >= StaleAfter;
        return _distrusted;
    }

    private async Task RecreateAsync(PgCronJob job, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_lastRecreate is { } last && now - last < StaleAfter)
        {
            return;
        }

        _lastRecreate = now;
        var newJobId = await MaintenanceCommands.ScheduleAsync(dataSource, recreate: true, cancellationToken);
        MaintenanceLog.PgCronJobStale(logger, job.JobId, StaleAfter, newJobId);
    }

    private async Task<(bool Installed, PgCronJob? Job)> ReadAsync(CancellationToken cancellationToken)
    {
        var status = await MaintenanceCommands.ReadPgCronAsync(dataSource, cancellationToken);
        var started = timeProvider.GetTimestamp();
        while (!_graceUsed && status.Job is { Active: true, SchedulerRunning: false }
            && timeProvider.GetElapsedTime(started) < SchedulerStartGrace)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), timeProvider, cancellationToken);
            status = await MaintenanceCommands.ReadPgCronAsync(dataSource, cancellationToken);
        }

        _graceUsed = true;
        return status;
    }

    private async Task ScheduleOnceAsync(CancellationToken cancellationToken)
    {
        if (_scheduled)
        {
            return;
        }

        try
        {
            if (await MaintenanceCommands.ScheduleAsync(dataSource, recreate: false, cancellationToken) is { } jobId)
            {
                MaintenanceLog.PgCronScheduled(logger, jobId);
            }
        }
        catch (PostgresException e) when (!e.IsTransient)
        {
            // E.g. no USAGE on schema cron, or pg_cron installed but not preloaded.
            MaintenanceLog.PgCronScheduleFailed(logger, e);
        }

        _scheduled = true;
    }
}
