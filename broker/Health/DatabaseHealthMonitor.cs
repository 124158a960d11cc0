using EventStream.Broker.Storage;
using EventStream.Grpc.Server;
using EventStream.Grpc.Server.Health;
using Microsoft.Extensions.Options;
using ServingStatus = EventStream.Protocol.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Broker.Health;

/// <summary>
/// Drives grpc.health.v1: NOT_SERVING until the database is reachable and migrated, then
/// SERVING while a periodic probe reaches it.
/// </summary>
internal sealed partial class DatabaseHealthMonitor(
    DatabaseEndpoint database,
    HealthService health,
    GrpcMethodRegistry registry,
    IOptions<HealthOptions> options,
    TimeProvider timeProvider,
    ILogger<DatabaseHealthMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            // DatabaseEndpoint logs the failure and stops the host.
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        SetStatus(ServingStatus.Serving);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.ProbeInterval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            SetStatus(await ProbeAsync(stoppingToken) ? ServingStatus.Serving : ServingStatus.NotServing);
        }
        SetStatus(ServingStatus.NotServing);
    }

    private async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.ProbeTimeout);
            await using var command = database.DataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogProbeFailed(logger, e.Message);
            return false;
        }
    }

    private void SetStatus(ServingStatus status)
    {
        if (health.GetStatus("") != status)
        {
            LogStatusChanged(logger, status);
        }
        health.SetStatus("", status);
        foreach (var service in registry.Services)
        {
            health.SetStatus(service.FullName, status);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Health status is now {Status}.")]
    private static partial void LogStatusChanged(ILogger logger, ServingStatus status);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Database probe failed: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string reason);
}

/// <summary>How the broker checks its database for grpc.health.v1 (section <c>EventStream:Health</c>).</summary>
internal sealed class HealthOptions
{
    /// <summary>How often to probe the database once it is ready. Default 5 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take before the database counts as unreachable. Default 3 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
