using EventStream.Testing;
using Npgsql;

namespace EventStream.Broker.Tests.Broker;

/// <summary>One broker process on a fresh embedded database, shared by the tests of its collection.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly TestDirectory _directory = new();

    public BrokerProcess Process { get; private set; } = null!;

    public string DataDirectory => _directory.Path;

    /// <summary>
    /// EVENTSTREAM_TEST_CITUS_WORKERS runs the shared broker on a local Citus cluster with that many
    /// workers (test.sh does, for the produce and consume suites, where Citus is installed).
    /// </summary>
    public static string? CitusWorkers => Environment.GetEnvironmentVariable("EVENTSTREAM_TEST_CITUS_WORKERS") is { Length: > 0 } value ? value : null;

    /// <summary>The broker's embedded database, for checking what it stored.</summary>
    public NpgsqlDataSource Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = _directory.Path };
        if (CitusWorkers is { } workers)
        {
            environment["EventStream__Embedded__CitusWorkers"] = workers;
        }
        Process = BrokerProcess.Start(environment);
        await Process.WaitUntilServingAsync();
        Database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(_directory.Path));
    }

    public async Task DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        await Process.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "Broker process";
}
