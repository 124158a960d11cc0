using EventStream.Client;
using EventStream.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;

namespace EventStream.Benchmarks;

/// <summary>A broker process on a fresh embedded PostgreSQL, with a direct connection to that database.</summary>
internal sealed class BenchmarkBroker : IAsyncDisposable
{
    private readonly string _directory;

    private BenchmarkBroker(string directory, BrokerProcess process, NpgsqlDataSource database, string? apiKey)
    {
        _directory = directory;
        Process = process;
        Database = database;
        ApiKey = apiKey;
        Channel = apiKey is null ? process.Channel : GrpcChannel.ForAddress(process.Address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure,
                CallCredentials.FromInterceptor((_, metadata) => { metadata.Add("authorization", "Bearer " + apiKey); return Task.CompletedTask; })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    public BrokerProcess Process { get; }

    /// <summary>The key every call presents when the broker was started with API keys on; else null.</summary>
    public string? ApiKey { get; }

    /// <summary>A channel to the broker, presenting <see cref="ApiKey"/> when there is one.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>Producer options for this broker, with its credentials.</summary>
    public EventStreamProducerOptions ProducerOptions() => new()
    {
        Address = Process.Address,
        Credentials = ApiKey is null ? null : EventStreamCredentials.FromApiKey(ApiKey),
    };

    public NpgsqlDataSource Database { get; }

    /// <summary>
    /// Starts the broker; with <paramref name="apiKeys"/>, with API-key authentication on and an
    /// admin key (made with the broker's <c>create-api-key</c> command) for every call.
    /// </summary>
    public static async Task<BenchmarkBroker> StartAsync(bool apiKeys = false)
    {
        // Under /tmp: as root, PostgreSQL runs as the postgres account, which must reach it.
        var directory = Path.Combine("/tmp", "eventstream-bench-" + Guid.NewGuid().ToString("N"));
        var environment = new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = directory,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        string? apiKey = null;
        if (apiKeys)
        {
            environment["EventStream__Security__ApiKeys__Enabled"] = "true";
            apiKey = await SecureBroker.CreateApiKeyAsync(environment, "benchmark", "--admin");
        }
        var process = BrokerProcess.Start(environment);
        await process.WaitUntilServingAsync(TimeSpan.FromMinutes(2));
        return new BenchmarkBroker(directory, process, NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(directory)), apiKey);
    }

    /// <summary>Stops the broker cleanly, which stops its PostgreSQL; a broker that does not stop is killed and its PostgreSQL stopped here.</summary>
    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (ApiKey is not null)
        {
            Channel.Dispose();
        }
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
