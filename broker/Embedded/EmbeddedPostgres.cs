using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using EventStream.Broker.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Embedded;

/// <summary>
/// A PostgreSQL server the broker runs from the machine's installed binaries, in a data
/// directory of its own, on a loopback port. <see cref="StartAsync"/> starts it;
/// <see cref="DisposeAsync"/> stops it.
/// </summary>
/// <remarks>
/// The data directory stays locked while the instance lives. A server found running on it at
/// start was left by a broker that died (pg_ctl daemonizes it), so it is stopped and started
/// again with the current settings.
/// </remarks>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    /// <summary>Superuser initdb creates; the broker connects as it.</summary>
    public const string Username = "eventstream";

    private const int StartAttempts = 3;

    private readonly PostgresCommands _commands;
    private readonly FileStream _lock;
    private readonly ILogger _logger;
    private int _disposed;
    // Starts the server again on the same port, with the settings it was first started with.
    private Func<CancellationToken, Task<int>> _startAgain = _ => throw new InvalidOperationException("Not started.");

    private EmbeddedPostgres(PostgresCommands commands, FileStream directoryLock, ILogger logger, int port, string connectionString)
    {
        _commands = commands;
        _lock = directoryLock;
        _logger = logger;
        Port = port;
        ConnectionString = connectionString;
    }

    /// <summary>Npgsql connection string to the broker's database, password included.</summary>
    public string ConnectionString { get; }

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The port the server used on its previous start, if any.</summary>
    internal int? PreviousPort { get; private init; }

    /// <summary>The superuser's password.</summary>
    internal string Password { get; private init; } = "";

    /// <summary>The data directory in use.</summary>
    public string DataDirectory => _commands.Layout.Root;

    /// <summary>
    /// Finds the binaries, creates the cluster on first use, starts the server and creates the
    /// database. Throws <see cref="EmbeddedPostgresException"/> saying what to do when it cannot.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public static Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger logger, CancellationToken cancellationToken) =>
        StartAsync(options, logger, citus: false, password: null, cancellationToken);

    /// <summary>Starts one server; with <paramref name="citus"/>, one node of a local Citus cluster.</summary>
    /// <param name="password">The password a new cluster gets (nodes of one Citus cluster share one); random when null.</param>
    [UnsupportedOSPlatform("windows")]
    internal static async Task<EmbeddedPostgres> StartAsync(
        EmbeddedPostgresOptions options, ILogger logger, bool citus, string? password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        Validate(options);

        var clusterMajorVersion = DataDirectoryLayout.ReadClusterMajorVersion(options.DataDirectory);
        var binaries = await PostgresBinaries.LocateAsync(options.BinDirectory, clusterMajorVersion, cancellationToken);
        EmbeddedPostgresLog.BinariesFound(logger, binaries.MajorVersion, binaries.BinDirectory, binaries.HasPgCron);

        var layout = DataDirectoryLayout.Create(options.DataDirectory);
        var directoryLock = DataDirectoryLock.Acquire(layout);
        try
        {
            ServerAccount? account = null;
            if (UnixUser.IsRoot)
            {
                EmbeddedPostgresLog.RunningAsAccount(logger, options.OsUser);
                account = await ServerAccount.PrepareAsync(options.OsUser, layout, options.Timeout, cancellationToken);
            }

            var commands = new PostgresCommands(binaries, layout, account, options.Timeout);
            password = PasswordFile.ReadOrCreate(layout, password);
            if (account is not null)
            {
                await account.GiveAsync([layout.Root, layout.PasswordFile], recursive: false, cancellationToken);
            }

            if (!layout.ClusterExists)
            {
                await InitializeClusterAsync(commands, logger, cancellationToken);
            }

            layout.EnsureSettingsIncluded();
            if (await commands.IsServerRunningAsync(cancellationToken))
            {
                EmbeddedPostgresLog.StoppingOrphan(logger, layout.Cluster);
                await StopOrphanAsync(commands, cancellationToken);
            }

            if (citus && !binaries.HasCitus)
            {
                throw new EmbeddedPostgresException(
                    $"{EmbeddedPostgresOptions.SectionName}:CitusWorkers asks for a local Citus cluster, but the citus extension is not installed for PostgreSQL {binaries.MajorVersion} in {binaries.BinDirectory}.");
            }
            var preloadPgCron = binaries.HasPgCron && options.PreloadPgCron;
            var previousPort = layout.ReadLastPort();
            var port = await StartServerAsync(options, commands, account, preloadPgCron, citus, logger, cancellationToken);
            layout.WriteLastPort(port);

            var instance = new EmbeddedPostgres(commands, directoryLock, logger, port, BuildConnectionString(BrokerHost(layout, port), port, password, options.Database))
            {
                PreviousPort = previousPort,
                Password = password,
            };
            instance._startAgain = token => StartServerAsync(options, commands, account, preloadPgCron, citus, logger, token, requiredPort: port);
            try
            {
                await instance.CreateDatabaseAsync(options, password, cancellationToken);
            }
            catch
            {
                await instance.DisposeAsync();
                throw;
            }

            EmbeddedPostgresLog.Ready(logger, port, options.Database);
            return instance;
        }
        catch
        {
            await directoryLock.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server (fast shutdown: sessions are ended, nothing is lost) and releases the directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            EmbeddedPostgresLog.Stopping(_logger);
            var result = await _commands.StopServerAsync("fast", CancellationToken.None);
            if (result.Succeeded || !await _commands.IsServerRunningAsync(CancellationToken.None))
            {
                EmbeddedPostgresLog.Stopped(_logger);
            }
            else
            {
                EmbeddedPostgresLog.StopFailed(_logger, result.Printed);
            }
        }
        catch (EmbeddedPostgresException e)
        {
            // Disposal must not throw; the next start stops a server left running.
            EmbeddedPostgresLog.StopFailed(_logger, e.Message);
        }
        finally
        {
            await _lock.DisposeAsync();
        }
    }

    private static void Validate(EmbeddedPostgresOptions options)
    {
        if (options.Port is < 0 or > 65535)
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}:Port must be 0 (any free port) or a TCP port, not {options.Port}.");
        }

        if (!IdentifierPattern().IsMatch(options.Database))
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}:Database must be a plain identifier (letters, digits, _), not '{options.Database}'.");
        }

        if (!SizePattern().IsMatch(options.MaxSlotWalKeepSize))
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}:MaxSlotWalKeepSize must be -1 or a size such as 4GB, not '{options.MaxSlotWalKeepSize}'.");
        }

        if (options.MaxReplicationSlots < 1 || options.Timeout <= TimeSpan.Zero)
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}: MaxReplicationSlots and Timeout must be positive.");
        }
    }

    /// <summary>
    /// The broker connects through the server's Unix socket where it has one: a loopback TCP
    /// connection costs PostgreSQL about a sixth more CPU per event at a steady load, most of it
    /// in the WAL sender's sends (docs/performance.md). Others connect on 127.0.0.1.
    /// </summary>
    private static string BrokerHost(DataDirectoryLayout layout, int port) =>
        ServerSettings.SocketPathFits(layout, port) ? layout.SocketDirectory : "127.0.0.1";

    private static string BuildConnectionString(string host, int port, string password, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = host,
        Port = port,
        Username = Username,
        Password = password,
        Database = database,
    }.ConnectionString;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^(-1|[0-9]+ ?(kB|MB|GB|TB)?)$")]
    private static partial Regex SizePattern();
}
