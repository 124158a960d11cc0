using Npgsql;

namespace EventStream.Broker.Maintenance;

/// <summary>The maintenance functions of <c>sql/003_maintenance.sql</c>, called from the broker.</summary>
internal static class MaintenanceCommands
{
    /// <summary>
    /// A run stops starting batches after its 10 s budget, but one batch on a very large
    /// partition may take longer; the default 30 s command timeout would cancel it every time.
    /// </summary>
    private const int RunTimeoutSeconds = 300;

    /// <summary>
    /// Creates missing partitions up to now + <paramref name="ahead"/>; returns how many, or null
    /// when the events table was busy (creating a partition locks it; waiting in the lock queue
    /// would stall every producer behind a long reader).
    /// </summary>
    public static async Task<int?> EnsurePartitionsAsync(NpgsqlDataSource dataSource, TimeSpan ahead, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var timeout = new NpgsqlCommand("SET LOCAL lock_timeout = '500ms'", connection, transaction))
        {
            await timeout.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using var ensure = new NpgsqlCommand("SELECT eventstream.ensure_partitions(ahead => $1)", connection, transaction)
            {
                Parameters = { new() { Value = ahead } },
            };
            var created = (int)(await ensure.ExecuteScalarAsync(cancellationToken))!;
            await transaction.CommitAsync(cancellationToken);
            return created;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            return null;
        }
    }

    /// <summary>
    /// Schedules the pg_cron job unless it exists, or removes and schedules it again when
    /// <paramref name="recreate"/>; its id, or null without pg_cron here.
    /// </summary>
    public static async Task<long?> ScheduleAsync(NpgsqlDataSource dataSource, bool recreate, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT eventstream.schedule_maintenance(recreate => $1)");
        command.Parameters.Add(new() { Value = recreate });
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>Whether pg_cron is installed here, and the maintenance job if there is one.</summary>
    public static async Task<(bool Installed, PgCronJob? Job)> ReadPgCronAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'),
                   j.job_id, j.active, j.scheduler_running, j.runs_logged,
                   j.last_status, j.last_start, j.since_last_start, j.last_message
            FROM (SELECT 1) AS one
            LEFT JOIN eventstream.maintenance_job() j ON true
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var installed = reader.GetBoolean(0);
        if (reader.IsDBNull(1))
        {
            return (installed, null);
        }

        return (installed, new PgCronJob(
            reader.GetInt64(1),
            reader.GetBoolean(2),
            reader.GetBoolean(3),
            reader.IsDBNull(4) ? null : reader.GetBoolean(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetDateTime(6),
            reader.IsDBNull(7) ? null : reader.GetTimeSpan(7),
            reader.IsDBNull(8) ? null : reader.GetString(8)));
    }

    /// <summary>One <c>eventstream.run_maintenance()</c> call.</summary>
    public static async Task<MaintenanceSummary> RunAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT eventstream.run_maintenance()");
        command.CommandTimeout = RunTimeoutSeconds;
        var json = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        return MaintenanceSummary.Parse(json);
    }
}
