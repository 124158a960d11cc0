using EventStream.Broker.Citus;
using EventStream.Broker.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>
/// The broker's database: the server named by <c>ConnectionStrings:EventStream</c>, or an
/// embedded one started from the installed binaries. Started as a hosted service; the rest of
/// the broker awaits <see cref="Ready"/>, which completes once migrations are applied.
/// </summary>
/// <remarks>
/// Start does not block the host, so health checks can answer while the database comes up.
/// When it cannot come up, <see cref="Ready"/> faults, the failure is logged and the
/// application stops with exit code 1. Register it before the services that use it, so the
/// host stops it after them. An embedded server that dies later is started again on its port.
/// </remarks>
public sealed class DatabaseEndpoint : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan SupervisionInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRestartBackoff = TimeSpan.FromSeconds(30);

    private readonly string? _configuredConnectionString;
    private readonly EmbeddedPostgresOptions _embeddedOptions;
    private readonly DatabaseOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _timeProvider;
    private readonly TaskCompletionSource<NpgsqlDataSource> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private Task _startup = Task.CompletedTask;
    private Task _supervision = Task.CompletedTask;
    private NpgsqlDataSource? _dataSource;
    private NpgsqlDataSource? _writerDataSource;
    private string? _connectionString;
    private EmbeddedPostgres? _embedded;
    private LocalCitusCluster? _localCitus;
    private int _disposed;

    public DatabaseEndpoint(
        IConfiguration configuration,
        IOptions<DatabaseOptions> options,
        IOptions<EmbeddedPostgresOptions> embeddedOptions,
        ILoggerFactory loggerFactory,
        IHostApplicationLifetime lifetime,
        TimeProvider timeProvider)
    {
        _configuredConnectionString = configuration.GetConnectionString(DatabaseOptions.ConnectionStringName);
        _options = options.Value;
        _embeddedOptions = embeddedOptions.Value;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DatabaseEndpoint>();
        _lifetime = lifetime;
        _timeProvider = timeProvider;
    }

    /// <summary>Completes with the data source once the database is reachable and migrated.</summary>
    public Task<NpgsqlDataSource> Ready => _ready.Task;

    /// <summary>The data source; throws before <see cref="Ready"/> completes.</summary>
    public NpgsqlDataSource DataSource => Ready.IsCompletedSuccessfully
        ? Ready.Result
        : throw new DatabaseNotReadyException();

    /// <summary>
    /// Connections for the produce writer's transactions alone (see <see cref="WriterConnections"/>);
    /// throws before <see cref="Ready"/> completes.
    /// </summary>
    public NpgsqlDataSource WriterDataSource => Ready.IsCompletedSuccessfully && _writerDataSource is { } value
        ? value
        : throw new DatabaseNotReadyException();

    /// <summary>
    /// The connection string, password included, for connections a data source cannot open
    /// (logical replication); throws before <see cref="Ready"/> completes.
    /// </summary>
    public string ConnectionString => Ready.IsCompletedSuccessfully && _connectionString is { } value
        ? value
        : throw new DatabaseNotReadyException();

    /// <summary>True when the database is a Citus coordinator (known once <see cref="Ready"/> completes).</summary>
    public bool IsCitus { get; private set; }

    /// <summary>True when the broker runs its own PostgreSQL (no connection string configured).</summary>
    public bool IsEmbedded => string.IsNullOrWhiteSpace(_configuredConnectionString);

    /// <summary>
    /// Raised with true when the embedded server was found dead and is started again, and with
    /// false once it runs again.
    /// </summary>
    public event Action<bool>? Restarting;

    /// <summary>The embedded server once started, for its port and data directory; null otherwise.</summary>
    public EmbeddedPostgres? Embedded => _embedded;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _startup = Task.Run(() => StartupAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _startup.WaitAsync(cancellationToken);
        // Before the server is stopped, so it is not started again.
        await _supervision.WaitAsync(cancellationToken);
        await ReleaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice: as itself and as the hosted service.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _startup;
        await _supervision;
        await ReleaseAsync();
        _stopping.Dispose();
    }

    private async Task StartupAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connectionString = await ConnectionStringAsync(cancellationToken);
            _connectionString = connectionString;
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.UseLoggerFactory(_loggerFactory);
            _dataSource = builder.Build();
            _writerDataSource = WriterConnections.Build(connectionString, _loggerFactory);

            await ConnectionProbe.WaitAsync(_dataSource, _options.StartupTimeout, _logger, _timeProvider, cancellationToken);
            IsCitus = await CitusSetup.IsCitusAsync(_dataSource, cancellationToken);
            if (IsCitus)
            {
                await CitusSetup.CheckNodesAsync(_dataSource, cancellationToken);
            }
            await new MigrationRunner(_dataSource, _loggerFactory.CreateLogger<MigrationRunner>()).ApplyAsync(cancellationToken);
            if (IsCitus)
            {
                await CitusSetup.DistributeAsync(_dataSource, cancellationToken);
                StorageLog.CitusMode(_logger);
            }
            StorageLog.DatabaseReady(_logger);
            _ready.TrySetResult(_dataSource);
            if (_embedded is { } embedded)
            {
                _supervision = Task.Run(() => SuperviseAsync(embedded, _dataSource, cancellationToken), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ready.TrySetCanceled(cancellationToken);
        }
        catch (Exception e)
        {
            StorageLog.DatabaseFailed(_logger, e);
            _ready.TrySetException(e);
            await ReleaseAsync();
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
    }

    /// <summary>
    /// Starts the embedded server again when it died (killed, out of memory), on the same port, so
    /// the data source's connection string stays right; its broken idle connections are dropped.
    /// Meanwhile calls fail as with any unreachable database, and the health monitor reports it.
    /// </summary>
    private async Task SuperviseAsync(EmbeddedPostgres embedded, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var seenDown = false;
        var failedRestarts = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // After a failed restart, wait longer each time (1, 2, 4 ... 30 s).
                var wait = failedRestarts == 0
                    ? SupervisionInterval
                    : TimeSpan.FromTicks(Math.Min(MaxRestartBackoff.Ticks, SupervisionInterval.Ticks << Math.Min(failedRestarts - 1, 5)));
                await Task.Delay(wait, _timeProvider, cancellationToken);
                // Down at two looks a second apart: not in the middle of an operator's pg_ctl restart.
                var down = !embedded.IsRunning();
                (seenDown, down) = (down, down && (seenDown || failedRestarts > 0));
                if (!down)
                {
                    continue;
                }
                seenDown = false;
                StorageLog.EmbeddedServerDied(_logger, failedRestarts + 1, _embeddedOptions.MaxRestartAttempts);
                Restarting?.Invoke(true);
                await embedded.RestartAsync(cancellationToken);
                dataSource.Clear();
                _writerDataSource?.Clear();
                failedRestarts = 0;
                Restarting?.Invoke(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                failedRestarts++;
                StorageLog.EmbeddedRestartFailed(_logger, failedRestarts, _embeddedOptions.MaxRestartAttempts, e);
                if (failedRestarts >= _embeddedOptions.MaxRestartAttempts)
                {
                    // Better a visible exit (a supervisor starts the broker again) than a broker that only refuses.
                    Environment.ExitCode = 1;
                    _lifetime.StopApplication();
                    break;
                }
            }
        }
    }

    private async Task<string> ConnectionStringAsync(CancellationToken cancellationToken)
    {
        if (!IsEmbedded)
        {
            var configured = new NpgsqlConnectionStringBuilder(_configuredConnectionString);
            StorageLog.UsingConfiguredServer(_logger, configured.Host, configured.Port, configured.Database);
            return _configuredConnectionString!;
        }

        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                $"The embedded PostgreSQL needs Linux or macOS; set ConnectionStrings:{DatabaseOptions.ConnectionStringName} instead.");
        }

        if (_embeddedOptions.CitusWorkers > 0)
        {
            _localCitus = await LocalCitusCluster.StartAsync(_embeddedOptions, _loggerFactory.CreateLogger<LocalCitusCluster>(), cancellationToken);
            return _localCitus.ConnectionString;
        }
        _embedded = await EmbeddedPostgres.StartAsync(_embeddedOptions, _loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken);
        return _embedded.ConnectionString;
    }

    private async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _dataSource, null) is { } dataSource)
        {
            await dataSource.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _writerDataSource, null) is { } writerDataSource)
        {
            await writerDataSource.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _embedded, null) is { } embedded)
        {
            await embedded.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _localCitus, null) is { } localCitus)
        {
            await localCitus.DisposeAsync();
        }
    }
}

/// <summary>The database is still starting (or failed to): calls that need it cannot run yet.</summary>
public sealed class DatabaseNotReadyException() : InvalidOperationException("The database is not ready yet: await DatabaseEndpoint.Ready first.");
