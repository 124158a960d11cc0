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

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
