namespace EventStream.Broker.Maintenance;

/// <summary>The pg_cron maintenance job of the broker's database, from <c>eventstream.maintenance_job()</c>.</summary>
/// <param name="JobId">pg_cron's job id.</param>
/// <param name="Active">False when paused (<c>cron.alter_job(..., active => false)</c>).</param>
/// <param name="SchedulerRunning">A pg_cron scheduler is connected to this database.</param>
/// <param name="RunsLogged"><c>cron.log_run</c>; null when this role may not read it.</param>
/// <param name="LastStatus">Status of the last recorded run (e.g. succeeded, failed), if any.</param>
/// <param name="LastStart">When that run started.</param>
/// <param name="SinceLastStart">How long ago, by the database's clock.</param>
/// <param name="LastMessage">Its return message (the error when it failed).</param>
internal sealed record PgCronJob(
    long JobId,
    bool Active,
    bool SchedulerRunning,
    bool? RunsLogged,
    string? LastStatus,
    DateTime? LastStart,
    TimeSpan? SinceLastStart,
    string? LastMessage)
{
    public bool LastRunFailed => LastStatus == "failed";

    /// <summary>A run started within <paramref name="window"/>.</summary>
    public bool RanWithin(TimeSpan window) => SinceLastStart is { } since && since < window;
}
