namespace EventStream.Broker.Maintenance;

/// <summary>
/// How the broker keeps retention and partitions up to date. Bound from
/// <c>EventStream:Maintenance</c> (e.g. <c>EventStream__Maintenance__Interval</c>).
/// </summary>
/// <remarks>
/// The work itself is <c>eventstream.run_maintenance()</c> in the database. With pg_cron in the
/// broker's database the broker schedules it there (every minute) and only checks the job every
/// <see cref="RecheckInterval"/>; otherwise, or when the job is removed, paused, has no pg_cron
/// scheduler or has not started for 3 minutes, the broker calls it every <see cref="Interval"/>.
/// <see cref="PartitionsAhead"/> must exceed twice both intervals, so partitions never run out
/// between two rounds.
/// </remarks>
public sealed class MaintenanceOptions
{
    /// <summary>Configuration section the options are bound from.</summary>
    public const string SectionName = "EventStream:Maintenance";

    /// <summary>How often the broker runs maintenance when pg_cron does not. Default 30 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the broker checks that pg_cron still runs the job. Default 5 min.</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Schedule maintenance with pg_cron when it is installed in the broker's database, and leave
    /// it to pg_cron. Default true; false makes the broker run it itself (a job scheduled before
    /// is left alone: concurrent runs skip each other).
    /// </summary>
    public bool UsePgCron { get; set; } = true;

    /// <summary>How far ahead of now the broker keeps partitions at every round. Default 1 day.</summary>
    public TimeSpan PartitionsAhead { get; set; } = TimeSpan.FromDays(1);
}
