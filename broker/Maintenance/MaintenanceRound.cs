namespace EventStream.Broker.Maintenance;

/// <summary>Who runs maintenance for the broker's database.</summary>
internal enum MaintenanceMode
{
    /// <summary>The pg_cron job; the broker only checks on it.</summary>
    PgCron,

    /// <summary>The broker's own timer.</summary>
    Broker,
}

/// <summary>What one round of <see cref="MaintenanceRunner"/> did.</summary>
/// <param name="Mode">Who runs maintenance now.</param>
/// <param name="Reason">Why the broker runs it (null under pg_cron).</param>
/// <param name="Summary">The broker's run, when it ran one.</param>
/// <param name="NextDelay">How long to wait before the next round.</param>
internal sealed record MaintenanceRound(MaintenanceMode Mode, string? Reason, MaintenanceSummary? Summary, TimeSpan NextDelay);
