using EventStream.Testing;
using Npgsql;

namespace EventStream.Benchmarks;

/// <summary>A broker process on a fresh embedded PostgreSQL, with a direct connection to that database.</summary>
internal sealed class BenchmarkBroker : IAsyncDisposable
{
    private readonly string _directory;

    private BenchmarkBroker(string directory, BrokerProcess process, NpgsqlDataSource database)
    {
        _directory = directory;
        Process = process;
        Database = database;
    }

    public BrokerProcess Process { get; }

    public NpgsqlDataSource Database { get; }

    public static async Task<BenchmarkBroker> StartAsync()
    {
        // Under /tmp: as root, PostgreSQL runs as the postgres account, which must reach it.
        var directory = Path.Combine("/tmp", "eventstream-bench-" + Guid.NewGuid().ToString("N"));
        var process = BrokerProcess.Start(new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = directory,
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await process.WaitUntilServingAsync(TimeSpan.FromMinutes(2));
        return new BenchmarkBroker(directory, process, NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(directory)));
    }

    /// <summary>Stops the broker cleanly, which stops its PostgreSQL; a broker that does not stop is killed and its PostgreSQL stopped here.</summary>
    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        try
        {
            await Process.StopAsync(TimeSpan.FromSeconds(45));
        }
        catch (TimeoutException)
        {
        }
        await Process.DisposeAsync();
        await StopPostgresAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A fast shutdown (SIGINT) of the postmaster a killed broker left running, until its pid file is gone.</summary>
    private async Task StopPostgresAsync()
    {
        var pidFile = Path.Combine(_directory, "pgdata", "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First(), out var pid))
        {
            return;
        }
        using (var signal = System.Diagnostics.Process.Start("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (File.Exists(pidFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}
