using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EventStream.Broker.Embedded;
using Npgsql;

namespace EventStream.Broker.Tests.Embedded;

/// <summary>Start, stop and recovery of the launcher, each test on its own data directory.</summary>
public sealed class EmbeddedPostgresLifecycleTests
{
    private const int CreatingCluster = 1002;
    private const int StoppingOrphan = 1003;

    [Fact]
    public async Task Second_start_reuses_the_data_directory()
    {
        var ct = TestTimeout.Token();
        using var directory = new TestDirectory();
        var options = new EmbeddedPostgresOptions { DataDirectory = directory.Path };
        var firstLog = new RecordingLogger();
        int firstPort;
        await using (var first = await EmbeddedPostgres.StartAsync(options, firstLog, ct))
        {
            firstPort = first.Port;
            await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)", ct);
        }

        var secondLog = new RecordingLogger();
        await using var second = await EmbeddedPostgres.StartAsync(options, secondLog, ct);

        Assert.True(firstLog.Has(CreatingCluster));
        Assert.False(secondLog.Has(CreatingCluster));
        Assert.Equal(firstPort, second.Port);
        Assert.Equal(42, await ScalarAsync<int>(second.ConnectionString, "SELECT id FROM kept", ct));
    }

    [Fact]
    public async Task Server_left_running_by_a_dead_broker_is_restarted_with_current_settings()
    {
        var ct = TestTimeout.Token();
        using var directory = new TestDirectory();
        var options = new EmbeddedPostgresOptions { DataDirectory = directory.Path };
        await using (await EmbeddedPostgres.StartAsync(options, new RecordingLogger(), ct))
        {
        }

        // What kill -9 of the broker leaves behind: a daemonized postmaster and no lock.
        var orphanPort = LoopbackPort.PickFree();
        var commands = await CommandsAsync(directory.Path, ct);
        var started = await commands.RunDetachedAsync(
            "pg_ctl", ["start", "-D", commands.Layout.Cluster, "-l", commands.Layout.LogFile, "-w", "-o", $"-p {orphanPort}"], ct);
        Assert.True(started.Succeeded, started.Printed);
        var orphanPid = PostmasterPid(commands.Layout);

        var log = new RecordingLogger();
        await using var restarted = await EmbeddedPostgres.StartAsync(options, log, ct);

        Assert.True(log.Has(StoppingOrphan));
        Assert.NotEqual(orphanPid, PostmasterPid(commands.Layout));
        Assert.NotEqual(orphanPort, restarted.Port);
        Assert.Equal(restarted.Port, int.Parse(await ScalarAsync<string>(restarted.ConnectionString, "SHOW port", ct), CultureInfo.InvariantCulture));
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", orphanPort, ct).AsTask());
    }

    [Fact]
    public async Task Dispose_stops_the_server()
    {
        var ct = TestTimeout.Token();
        using var directory = new TestDirectory();
        var server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = directory.Path }, new RecordingLogger(), ct);

        await server.DisposeAsync();

        var commands = await CommandsAsync(directory.Path, ct);
        Assert.False(await commands.IsServerRunningAsync(ct));
        Assert.False(File.Exists(Path.Combine(commands.Layout.Cluster, "postmaster.pid")));
    }

    [Fact]
    public async Task Failed_start_reports_the_server_log_and_releases_the_directory()
    {
        var ct = TestTimeout.Token();
        using var directory = new TestDirectory();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var options = new EmbeddedPostgresOptions { DataDirectory = directory.Path, Port = takenPort };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, new RecordingLogger(), ct));

        Assert.Contains("postgres.log", e.Message, StringComparison.Ordinal);
        Assert.Contains("could not bind", e.Message, StringComparison.Ordinal);
        options.Port = 0;
        await using var retried = await EmbeddedPostgres.StartAsync(options, new RecordingLogger(), ct);
        Assert.NotEqual(takenPort, retried.Port);
    }

    internal static async Task<PostgresCommands> CommandsAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = dataDirectory };
        var layout = DataDirectoryLayout.Create(dataDirectory);
        var binaries = await PostgresBinaries.LocateAsync(null, null, cancellationToken);
        var account = UnixUser.IsRoot ? await ServerAccount.PrepareAsync(options.OsUser, layout, options.Timeout, cancellationToken) : null;
        return new PostgresCommands(binaries, layout, account, options.Timeout);
    }

    private static int PostmasterPid(DataDirectoryLayout layout) =>
        int.Parse(File.ReadLines(Path.Combine(layout.Cluster, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
