using EventStream.Broker.Maintenance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>
/// Maintenance under pg_cron, in the fixture's own database (the one pg_cron serves). Each test
/// removes the job it made, so pg_cron does not keep running there afterwards. Without pg_cron
/// installed on the machine there is nothing to check and the tests pass vacuously.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PgCronTests(PostgresFixture fixture)
{
    private const int LeftToPgCron = 1304;
    private const int BrokerRunsMaintenance = 1305;
    private const int MaintenanceRan = 1307;

    [Fact]
    public async Task Pg_cron_job_is_scheduled_and_expires_events_without_the_broker()
    {
        var ct = TestTimeout.Token(240);
        await using var db = await MaintenanceDatabase.CronDatabaseAsync(fixture, ct);
        if (!await PgCronInstalledAsync(db, ct))
        {
            return;
        }

        // Partitions first: a burst of DDL right after scheduling can make pg_cron 1.4 miss the new
        // job (see PgCronWatch); the broker would then take over only after minutes.
        var longLived = await db.CreateTopicAsync(TimeSpan.FromDays(7), ct);
        var shortLived = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
        await db.EnsurePartitionsAsync(TimeSpan.FromDays(2), ct);
        var log = new RecordingLogger();
        using var host = MaintenanceHost.Build(
            new()
            {
                ["ConnectionStrings:EventStream"] = fixture.Server.ConnectionString,
                ["EventStream:Maintenance:Interval"] = "00:00:01",
                ["EventStream:Maintenance:RecheckInterval"] = "00:00:02",
            },
            log);

        await host.StartAsync(ct);
        try
        {
            await MaintenanceHost.WaitUntilAsync(() => Task.FromResult(log.Has(LeftToPgCron)), TimeSpan.FromSeconds(30), "the broker leaves maintenance to pg_cron", ct);
            Assert.Equal(1L, await db.ScalarAsync<long>(
                "SELECT count(*) FROM cron.job WHERE jobname = eventstream.maintenance_job_name() AND active AND schedule = '* * * * *'", ct));

            // Planted after the hand-over, so only pg_cron can expire them.
            await db.InsertEventsAsync(shortLived, TimeSpan.FromHours(30), ct, count: 2);
            await db.InsertEventsAsync(shortLived, TimeSpan.FromMinutes(10), ct);
            await db.InsertEventsAsync(longLived, TimeSpan.FromHours(30), ct);
            var started = await db.ScalarAsync<DateTime>("SELECT now()", ct);
            var handedOver = log.Entries.Count;

            // pg_cron starts jobs on the minute, may first load a new job at one minute and run it
            // at the next, and marks a run succeeded after its commit.
            await MaintenanceHost.WaitUntilAsync(
                async () => await db.ScalarAsync<bool>(
                    """
                    SELECT EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                   WHERE j.jobname = eventstream.maintenance_job_name()
                                     AND d.status = 'succeeded' AND d.start_time >= $1)
                    """,
                    ct, started),
                TimeSpan.FromSeconds(150), "pg_cron ran maintenance", ct, () => DescribeCronAsync(db, ct));

            Assert.Equal(1, await db.CountEventsAsync(shortLived, ct));
            Assert.Equal(1, await db.CountEventsAsync(longLived, ct));
            Assert.DoesNotContain(log.Entries.Skip(handedOver), e => e.EventId.Id == MaintenanceRan);
            Assert.Equal(MaintenanceMode.PgCron, LastMode(log));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await UnscheduleAsync(db, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Paused_or_removed_job_hands_maintenance_to_the_broker()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CronDatabaseAsync(fixture, ct);
        if (!await PgCronInstalledAsync(db, ct))
        {
            return;
        }

        var options = new MaintenanceOptions();
        var runner = new MaintenanceRunner(db.DataSource, options, TimeProvider.System, NullLogger.Instance);
        try
        {
            var scheduled = await runner.RunRoundAsync(ct);
            var jobId = await db.ScalarAsync<long>("SELECT job_id FROM eventstream.maintenance_job()", ct);
            await db.ExecuteAsync("SELECT cron.alter_job($1, active => false)", ct, jobId);
            var paused = await runner.RunRoundAsync(ct);
            await db.ExecuteAsync("SELECT cron.alter_job($1, active => true)", ct, jobId);
            var resumed = await runner.RunRoundAsync(ct);
            await UnscheduleAsync(db, ct);
            var removed = await runner.RunRoundAsync(ct);

            Assert.Equal((MaintenanceMode.PgCron, options.RecheckInterval), (scheduled.Mode, scheduled.NextDelay));
            Assert.Null(scheduled.Summary);
            Assert.Equal(MaintenanceMode.Broker, paused.Mode);
            Assert.Contains("paused", paused.Reason, StringComparison.Ordinal);
            Assert.NotNull(paused.Summary);
            Assert.Equal(MaintenanceMode.PgCron, resumed.Mode);
            Assert.Equal(MaintenanceMode.Broker, removed.Mode);
            Assert.Contains("no maintenance job", removed.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await UnscheduleAsync(db, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Job_pg_cron_never_starts_is_scheduled_again_and_the_broker_takes_over_meanwhile()
    {
        var ct = TestTimeout.Token();
        await using var db = await MaintenanceDatabase.CronDatabaseAsync(fixture, ct);
        if (!await PgCronInstalledAsync(db, ct))
        {
            return;
        }

        var clock = new ManualTimeProvider();
        var runner = new MaintenanceRunner(db.DataSource, new MaintenanceOptions(), clock, NullLogger.Instance);
        try
        {
            var fresh = await runner.RunRoundAsync(ct);
            var stuckJob = await db.ScalarAsync<long>("SELECT job_id FROM eventstream.maintenance_job()", ct);
            // Stands for a job pg_cron does not start: it never comes due, and has no runs.
            await db.ExecuteAsync("SELECT cron.alter_job($1, schedule => '0 0 1 1 *')", ct, stuckJob);
            await db.ExecuteAsync("DELETE FROM cron.job_run_details WHERE jobid = $1", ct, stuckJob);
            clock.Advance(PgCronWatch.StaleAfter);
            var stale = await runner.RunRoundAsync(ct);
            var newJob = await db.ScalarAsync<long>("SELECT job_id FROM eventstream.maintenance_job()", ct);
            await db.ExecuteAsync("SELECT cron.alter_job($1, schedule => '0 0 1 1 *')", ct, newJob);
            var stillWaiting = await runner.RunRoundAsync(ct);
            await db.ExecuteAsync(
                "INSERT INTO cron.job_run_details (jobid, status, start_time) VALUES ($1, 'succeeded', now())", ct, newJob);
            var started = await runner.RunRoundAsync(ct);

            Assert.Equal(MaintenanceMode.PgCron, fresh.Mode);
            Assert.Equal(MaintenanceMode.Broker, stale.Mode);
            Assert.Contains("has not started", stale.Reason, StringComparison.Ordinal);
            Assert.NotNull(stale.Summary);
            Assert.NotEqual(stuckJob, newJob);
            Assert.Equal(MaintenanceMode.Broker, stillWaiting.Mode);
            Assert.Equal(MaintenanceMode.PgCron, started.Mode);
        }
        finally
        {
            await UnscheduleAsync(db, CancellationToken.None);
        }
    }

    private static MaintenanceMode LastMode(RecordingLogger log) =>
        log.Entries.Last(e => e.EventId.Id is LeftToPgCron or BrokerRunsMaintenance).EventId.Id == LeftToPgCron
            ? MaintenanceMode.PgCron
            : MaintenanceMode.Broker;

    private static Task<string> DescribeCronAsync(MaintenanceDatabase db, CancellationToken cancellationToken) =>
        db.ScalarAsync<string>(
            """
            SELECT format('now %s; jobs %s; runs %s; scheduler %s', now(),
                (SELECT json_agg(j) FROM cron.job j),
                (SELECT json_agg(d ORDER BY d.runid) FROM cron.job_run_details d),
                (SELECT json_agg(a.*) FROM (SELECT pid, datname, application_name, backend_start
                                            FROM pg_stat_activity WHERE application_name LIKE 'pg_cron%') a))
            """,
            cancellationToken);

    private static Task<bool> PgCronInstalledAsync(MaintenanceDatabase db, CancellationToken cancellationToken) =>
        db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')", cancellationToken);

    private static Task UnscheduleAsync(MaintenanceDatabase db, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = eventstream.maintenance_job_name()", cancellationToken);
}
