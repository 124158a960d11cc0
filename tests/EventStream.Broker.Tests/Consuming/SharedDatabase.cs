using System.Globalization;
using EventStream.Testing;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>
/// A fresh database on the test run's PostgreSQL with broker processes on it, as several brokers of one
/// cluster share a database. Brokers are killed on dispose.
/// </summary>
internal sealed class SharedDatabase : IAsyncDisposable
{
    private readonly List<BrokerProcess> _brokers = [];
    private readonly TimeSpan _leaseDuration;

    private SharedDatabase(string connectionString, TimeSpan leaseDuration)
    {
        ConnectionString = connectionString;
        _leaseDuration = leaseDuration;
        Database = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource Database { get; }

    public static async Task<SharedDatabase> CreateAsync(PostgresFixture fixture, TimeSpan leaseDuration) =>
        new(await fixture.CreateDatabaseAsync(TestTimeout.Token()), leaseDuration);

    /// <summary>Starts a broker on the database and waits until it serves.</summary>
    /// <param name="settings">More configuration, as environment variables.</param>
    public async Task<BrokerProcess> StartBrokerAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStream"] = ConnectionString,
            ["EventStream__Cluster__CoordinatorLeaseDuration"] = _leaseDuration.ToString("c", CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }
        var broker = BrokerProcess.Start(environment);
        _brokers.Add(broker);
        await broker.WaitUntilServingAsync();
        return broker;
    }

    /// <summary>The address of the broker holding the group's coordinator lease, or null.</summary>
    public async Task<string?> CoordinatorOfAsync(string group)
    {
        await using var command = Database.CreateCommand("SELECT holder_address FROM eventstream.group_coordinator($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        return (string?)await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var broker in _brokers)
        {
            await broker.DisposeAsync();
        }
        await Database.DisposeAsync();
    }
}
