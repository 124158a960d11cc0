using EventStream.Broker.Storage;
using EventStream.Protocol.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Broker.Health;

/// <summary>
/// Drives grpc.health.v1: NOT_SERVING until the database is reachable and migrated, then
/// SERVING while a periodic probe reaches it, and NOT_SERVING at once while a dead embedded
/// server is started again.
/// </summary>
internal sealed partial class DatabaseHealthMonitor(
    DatabaseEndpoint database,
    HealthServiceImpl health,
    IOptions<HealthOptions> options,
    TimeProvider timeProvider,
    ILogger<DatabaseHealthMonitor> logger) : BackgroundService
{
    /// <summary>The server as a whole ("") and each of its services, as health checks name them.</summary>
    private static readonly string[] Services =
        ["", Admin.Descriptor.FullName, Producer.Descriptor.FullName, Consumer.Descriptor.FullName];

    private readonly Lock _gate = new();
    private volatile ServingStatus _status = ServingStatus.NotServing;

    /// <summary>Whether health answers SERVING now (the health gauge reads it).</summary>
    public bool IsServing => _status == ServingStatus.Serving;

    /// <summary>Sets the health service to report NOT_SERVING until the monitor says otherwise.</summary>
    public static HealthServiceImpl CreateHealthService(HealthServiceImpl health)
    {
        foreach (var service in Services)
        {
            health.SetStatus(service, ServingStatus.NotServing);
        }
        return health;
    }

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
        database.Restarting += OnRestarting;
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
        database.Restarting -= OnRestarting;
        SetStatus(ServingStatus.NotServing);
    }

    private void OnRestarting(bool restarting) => SetStatus(restarting ? ServingStatus.NotServing : ServingStatus.Serving);

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
        lock (_gate)
        {
            if (_status == status)
            {
                return;
            }
            _status = status;
            LogStatusChanged(logger, status);
            foreach (var service in Services)
            {
                health.SetStatus(service, status);
            }
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
