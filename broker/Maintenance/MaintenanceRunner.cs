using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Maintenance;

/// <summary>
/// One maintenance round: keep partitions ahead, then run <c>eventstream.run_maintenance()</c>
/// unless the pg_cron job runs it (see <see cref="PgCronWatch"/>).
/// </summary>
/// <remarks>
/// The job is scheduled at start only: a job removed or paused while the broker runs stays so,
/// and the broker takes over. Partitions are ensured by the broker in every round, pg_cron or not,
/// so inserts keep finding partitions even when the job fails.
/// </remarks>
internal sealed class MaintenanceRunner(NpgsqlDataSource dataSource, MaintenanceOptions options, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Delay after a run that left work (budget spent, lock busy), to catch up soon.</summary>
    internal static readonly TimeSpan CatchUpDelay = TimeSpan.FromSeconds(1);

    private readonly PgCronWatch _pgCron = new(dataSource, timeProvider, logger);
    private (MaintenanceMode Mode, string? Reason)? _reported;

    public async Task<MaintenanceRound> RunRoundAsync(CancellationToken cancellationToken)
    {
        var created = await MaintenanceCommands.EnsurePartitionsAsync(dataSource, options.PartitionsAhead, cancellationToken);
        if (created is null)
        {
            MaintenanceLog.PartitionsDeferred(logger);
        }
        else if (created > 0)
        {
            MaintenanceLog.PartitionsCreated(logger, created.Value);
        }

        var (job, reason) = options.UsePgCron
            ? await _pgCron.CheckAsync(cancellationToken)
            : (null, $"{MaintenanceOptions.SectionName}:UsePgCron is false");
        if (job is not null)
        {
            Report(MaintenanceMode.PgCron, null, job.JobId);
            return new MaintenanceRound(MaintenanceMode.PgCron, null, null, created is null ? CatchUpDelay : options.RecheckInterval);
        }

        Report(MaintenanceMode.Broker, reason, 0);
        var summary = await MaintenanceCommands.RunAsync(dataSource, cancellationToken);
        if (summary.Skipped)
        {
            MaintenanceLog.MaintenanceSkipped(logger);
        }
        else
        {
            MaintenanceLog.MaintenanceRan(
                logger, summary.Duration.TotalMilliseconds, summary.PartitionsDropped.Count, summary.PartitionsSwept,
                summary.RowsDeleted, summary.ProducersExpired, summary.PartitionsCreated, summary.Complete);
        }

        var delay = summary.Complete && created is not null ? options.Interval : CatchUpDelay;
        return new MaintenanceRound(MaintenanceMode.Broker, reason, summary, delay);
    }

    /// <summary>Logs who runs maintenance when that changes, not at every round.</summary>
    private void Report(MaintenanceMode mode, string? reason, long jobId)
    {
        if (_reported == (mode, reason))
        {
            return;
        }

        _reported = (mode, reason);
        if (mode == MaintenanceMode.PgCron)
        {
            MaintenanceLog.LeftToPgCron(logger, jobId, options.RecheckInterval);
        }
        else
        {
            MaintenanceLog.BrokerRunsMaintenance(logger, options.Interval, reason!);
        }
    }
}
