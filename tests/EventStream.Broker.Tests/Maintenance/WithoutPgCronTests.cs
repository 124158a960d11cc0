using EventStream.Broker.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>
/// An embedded server started without pg_cron preloaded, after a start with it had scheduled
/// the job: the job is still in cron.job, but nothing runs it, so the broker must.
/// </summary>
public sealed class WithoutPgCronTests
{
    private const int BrokerRunsMaintenance = 1305;
    private const int MaintenanceRan = 1307;

    [Fact]
    public async Task Broker_timer_runs_maintenance_when_pg_cron_is_not_preloaded()
    {
        var ct = TestTimeout.Token(180);
        using var directory = new TestDirectory();
        var settings = new Dictionary<string, string?>
        {
            ["EventStream:Embedded:DataDirectory"] = directory.Path,
            ["EventStream:Maintenance:Interval"] = "00:00:00.300",
        };
        var hadJob = await ScheduleWithPgCronAsync(settings, ct);

        settings["EventStream:Embedded:PreloadPgCron"] = "false";
        var log = new RecordingLogger();
        using var host = MaintenanceHost.Build(settings, log);
        await host.StartAsync(ct);
        try
        {
            await using var db = await MaintenanceDatabase.MigrateAsync(await ConnectionStringAsync(host, ct), ct);
            Assert.False(await db.ScalarAsync<bool>("SELECT current_setting('shared_preload_libraries') LIKE '%pg_cron%'", ct));
            var longLived = await db.CreateTopicAsync(TimeSpan.FromDays(7), ct);
            var shortLived = await db.CreateTopicAsync(TimeSpan.FromHours(1), ct);
            await db.EnsurePartitionsAsync(TimeSpan.FromDays(2), ct);
            await db.InsertEventsAsync(shortLived, TimeSpan.FromHours(30), ct, count: 2);
            await db.InsertEventsAsync(shortLived, TimeSpan.FromMinutes(10), ct);
            await db.InsertEventsAsync(longLived, TimeSpan.FromHours(30), ct);

            await MaintenanceHost.WaitUntilAsync(
                async () => await db.CountEventsAsync(shortLived, ct) == 1, TimeSpan.FromSeconds(30), "the broker expired the old events", ct);

            Assert.Equal(1, await db.CountEventsAsync(longLived, ct));
            // Logged once the run's transaction committed, which may be just after the events went.
            await MaintenanceHost.WaitUntilAsync(() => Task.FromResult(log.Has(MaintenanceRan)), TimeSpan.FromSeconds(10), "the run was logged", ct);
            var handover = Assert.Single(log.Entries, e => e.EventId.Id == BrokerRunsMaintenance);
            Assert.Contains(hadJob ? "no pg_cron scheduler runs" : "not installed", handover.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Starts once with pg_cron preloaded, until the broker scheduled its job; false without pg_cron.</summary>
    private static async Task<bool> ScheduleWithPgCronAsync(Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        using var host = MaintenanceHost.Build(settings, new RecordingLogger());
        await host.StartAsync(cancellationToken);
        try
        {
            await using var db = await MaintenanceDatabase.MigrateAsync(await ConnectionStringAsync(host, cancellationToken), cancellationToken);
            if (!await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')", cancellationToken))
            {
                return false;
            }

            await MaintenanceHost.WaitUntilAsync(
                async () => await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM eventstream.maintenance_job())", cancellationToken),
                TimeSpan.FromSeconds(30), "the broker scheduled its pg_cron job", cancellationToken);
            return true;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The embedded server's connection string; the data source's has no password.</summary>
    private static async Task<string> ConnectionStringAsync(IHost host, CancellationToken cancellationToken)
    {
        var endpoint = host.Services.GetRequiredService<DatabaseEndpoint>();
        await endpoint.Ready.WaitAsync(cancellationToken);
        return endpoint.Embedded!.ConnectionString;
    }
}
