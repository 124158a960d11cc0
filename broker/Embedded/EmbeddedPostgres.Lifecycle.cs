using EventStream.Broker.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Embedded;

/// <summary>The steps of <see cref="EmbeddedPostgres.StartAsync"/>.</summary>
public sealed partial class EmbeddedPostgres
{
    private static async Task InitializeClusterAsync(PostgresCommands commands, ILogger logger, CancellationToken cancellationToken)
    {
        var layout = commands.Layout;
        if (layout.ClusterDirectoryHasLeftovers)
        {
            throw new EmbeddedPostgresException(
                $"{layout.Cluster} is not empty but holds no cluster (an interrupted first start?). "
                + "Delete that directory to let the broker create the cluster again.");
        }

        EmbeddedPostgresLog.CreatingCluster(logger, layout.Cluster);
        var result = await commands.RunAsync(
            "initdb",
            ["-D", layout.Cluster, "-U", Username, "--auth=scram-sha-256", $"--pwfile={layout.PasswordFile}",
             "-E", "UTF8", "--locale=C", "--no-instructions"],
            cancellationToken);
        if (!result.Succeeded)
        {
            throw new EmbeddedPostgresException($"initdb failed for {layout.Cluster}: {result.Printed}");
        }
    }

    private static async Task StopOrphanAsync(PostgresCommands commands, CancellationToken cancellationToken)
    {
        var result = await commands.StopServerAsync("fast", cancellationToken);
        if (!result.Succeeded && await commands.IsServerRunningAsync(cancellationToken))
        {
            // Crash recovery replays the WAL on the next start, so nothing committed is lost.
            result = await commands.StopServerAsync("immediate", cancellationToken);
            if (!result.Succeeded)
            {
                throw new EmbeddedPostgresException(
                    $"A PostgreSQL server is running on {commands.Layout.Cluster} and could not be stopped: {result.Printed}");
            }
        }
    }

    /// <summary>Writes the settings and starts the server; returns its port.</summary>
    private static async Task<int> StartServerAsync(
        EmbeddedPostgresOptions options, PostgresCommands commands, ServerAccount? account, bool preloadPgCron, bool citus,
        ILogger logger, CancellationToken cancellationToken, int? requiredPort = null)
    {
        var layout = commands.Layout;
        var port = requiredPort ?? LoopbackPort.Choose(options.Port, layout.ReadLastPort());
        for (var attempt = 1; ; attempt++)
        {
            if (!ServerSettings.SocketPathFits(layout, port))
            {
                EmbeddedPostgresLog.SocketPathTooLong(logger, layout.SocketDirectory);
            }

            Directory.CreateDirectory(layout.SocketDirectory);
            var settings = ServerSettings.Render(options, layout, port, preloadPgCron, citus);
            await File.WriteAllTextAsync(layout.SettingsFile + ".tmp", settings, cancellationToken);
            File.Move(layout.SettingsFile + ".tmp", layout.SettingsFile, overwrite: true);
            LogTail.Rotate(layout.LogFile);
            if (account is not null)
            {
                // The whole tree, so a directory first used by another account works too.
                await account.GiveAsync([layout.Root], recursive: true, cancellationToken);
            }

            EmbeddedPostgresLog.Starting(logger, port, layout.LogFile);
            var logStart = LogTail.Length(layout.LogFile);
            var result = await commands.RunDetachedAsync(
                "pg_ctl", ["start", "-D", layout.Cluster, "-l", layout.LogFile, "-w", "-t", commands.Seconds, "-s"], cancellationToken);
            if (result.Succeeded)
            {
                return port;
            }

            var log = LogTail.Read(layout.LogFile, logStart);
            if (options.Port == 0 && requiredPort is null && attempt < StartAttempts && log.Contains("could not bind", StringComparison.Ordinal))
            {
                // Another process took the port between our check and the server's bind.
                EmbeddedPostgresLog.PortTaken(logger, port);
                await StopOrphanAsync(commands, cancellationToken);
                port = LoopbackPort.PickFree();
                continue;
            }

            await StopOrphanAsync(commands, cancellationToken);
            throw new EmbeddedPostgresException(
                $"PostgreSQL did not start on {layout.Cluster} (pg_ctl exit code {result.ExitCode}). {result.Printed}\n"
                + $"Last lines of {layout.LogFile}:\n{log}");
        }
    }

    /// <summary>Waits for the server to accept connections and creates the broker's database.</summary>
    private async Task CreateDatabaseAsync(EmbeddedPostgresOptions options, string password, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(BuildConnectionString("127.0.0.1", Port, password, "postgres")) { Pooling = false };
        await using var dataSource = NpgsqlDataSource.Create(builder);
        await ConnectionProbe.WaitAsync(dataSource, options.Timeout, _logger, TimeProvider.System, cancellationToken);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new() { Value = options.Database } },
        };
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        // Validated as a plain identifier, so quoting is enough.
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{options.Database}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
        EmbeddedPostgresLog.DatabaseCreated(_logger, options.Database);
    }
}
