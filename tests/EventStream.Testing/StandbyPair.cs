using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace EventStream.Testing;

/// <summary>
/// A PostgreSQL primary and a hot standby streaming from it with synchronous replication, made
/// from the machine's binaries (initdb, pg_basebackup, pg_ctl), for failover tests. As root, the
/// servers run as the postgres account. Both are stopped and removed on dispose.
/// </summary>
public sealed class StandbyPair : IAsyncDisposable
{
    private readonly string _root = Path.Combine("/tmp", "eventstream-standby-" + Guid.NewGuid().ToString("N"));
    private readonly string _bin;

    private StandbyPair(string bin)
    {
        _bin = bin;
        PrimaryPort = BrokerProcess.FreePort();
        StandbyPort = BrokerProcess.FreePort();
    }

    public int PrimaryPort { get; }

    public int StandbyPort { get; }

    private string PrimaryData => Path.Combine(_root, "primary");

    private string StandbyData => Path.Combine(_root, "standby");

    /// <summary>
    /// Both servers in one connection string: Npgsql tries them in turn and uses the one that is
    /// primary now, looking again at a host's role after a second.
    /// </summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = $"127.0.0.1:{PrimaryPort},127.0.0.1:{StandbyPort}",
        Username = "eventstream",
        Database = "postgres",
        TargetSessionAttributes = "primary",
        HostRecheckSeconds = 1,
    }.ConnectionString;

    /// <summary>Starts a primary, copies it to a standby, and waits until the standby is synchronous.</summary>
    public static async Task<StandbyPair> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed under /usr/lib/postgresql.");
        var pair = new StandbyPair(Path.Combine(bin, "bin"));
        try
        {
            await pair.SetUpAsync();
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync()
    {
        Directory.CreateDirectory(_root);
        if (IsRoot)
        {
            await RunAsync("chown", "postgres", _root);
        }
        await RunAsPostgresAsync("initdb", "-D", PrimaryData, "-U", "eventstream", "--auth=trust", "-E", "UTF8");
        await File.AppendAllLinesAsync(Path.Combine(PrimaryData, "postgresql.conf"),
        [
            $"port = {PrimaryPort}",
            "listen_addresses = '127.0.0.1'",
            $"unix_socket_directories = '{_root}'",
            "wal_level = logical",
            "max_wal_senders = 40",
            "max_replication_slots = 40",
            "hot_standby = on",
            "fsync = off",
        ]);
        await RunAsPostgresAsync("pg_ctl", "-D", PrimaryData, "-l", Path.Combine(_root, "primary.log"), "-w", "start");
        await RunAsPostgresAsync("pg_basebackup", "-D", StandbyData, "-h", "127.0.0.1", "-p", Port(PrimaryPort), "-U", "eventstream", "-R", "-X", "stream");
        await File.AppendAllLinesAsync(Path.Combine(StandbyData, "postgresql.auto.conf"), [$"port = {StandbyPort}"]);
        await RunAsPostgresAsync("pg_ctl", "-D", StandbyData, "-l", Path.Combine(_root, "standby.log"), "-w", "start");
        await using var primary = NpgsqlDataSource.Create(ServerConnectionString(PrimaryPort));
        // By name: '*' would let the broker's logical walsenders stand in as the synchronous standby.
        await using (var sync = primary.CreateCommand("ALTER SYSTEM SET synchronous_standby_names = 'walreceiver'"))
        {
            await sync.ExecuteNonQueryAsync();
        }
        await using (var reload = primary.CreateCommand("SELECT pg_reload_conf()"))
        {
            await reload.ExecuteNonQueryAsync();
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var state = primary.CreateCommand("SELECT EXISTS (SELECT FROM pg_stat_replication WHERE sync_state = 'sync')");
            if (await state.ExecuteScalarAsync() is true)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The standby did not become synchronous.");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Kills the primary's postmaster and every process of it with SIGKILL, as a crashed machine would.</summary>
    public async Task KillPrimaryAsync()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(PrimaryData, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        // Its children first found, while they are still its children.
        var children = Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == postmaster)
            .ToList();
        foreach (var pid in children.Prepend(postmaster))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                await process.WaitForExitAsync();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone already.
            }
        }
    }

    /// <summary>The parent of a process, from /proc (the field after the command's closing parenthesis and state).</summary>
    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Promotes the standby to primary and waits until it accepts writes.</summary>
    public Task PromoteStandbyAsync() => RunAsPostgresAsync("pg_ctl", "-D", StandbyData, "-w", "promote");

    public async ValueTask DisposeAsync()
    {
        foreach (var data in new[] { PrimaryData, StandbyData })
        {
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                try
                {
                    await RunAsPostgresAsync("pg_ctl", "-D", data, "-m", "immediate", "stop");
                }
                catch (InvalidOperationException)
                {
                    // Already gone (the killed primary leaves its pid file behind).
                }
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string ServerConnectionString(int port) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "eventstream", Database = "postgres", Pooling = false }.ConnectionString;

    private Task RunAsPostgresAsync(string tool, params string[] arguments) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
            : RunAsync(Path.Combine(_bin, tool), arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
