using EventStream.Broker.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Maintenance;

/// <summary>
/// Runs <see cref="MaintenanceRunner"/> rounds once the database is ready, until the host stops.
/// A failed round is logged and retried after <see cref="MaintenanceOptions.Interval"/>.
/// </summary>
internal sealed class MaintenanceService(
    DatabaseEndpoint database,
    IOptions<MaintenanceOptions> options,
    TimeProvider timeProvider,
    ILogger<MaintenanceService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        NpgsqlDataSource dataSource;
        try
        {
            dataSource = await database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception)
        {
            // Stopping, or DatabaseEndpoint failed: it logs that and stops the host.
            return;
        }

        var runner = new MaintenanceRunner(dataSource, options.Value, timeProvider, logger);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                delay = (await runner.RunRoundAsync(stoppingToken)).NextDelay;
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                delay = options.Value.Interval;
                MaintenanceLog.MaintenanceFailed(logger, delay, e);
            }

            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
