using EventStream.Broker.Embedded;
using EventStream.Testing;
using Npgsql;

namespace EventStream.Broker.Tests.Broker;

/// <summary>One broker process on a fresh embedded database, shared by the tests of its collection.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly TestDirectory _directory = new();

    public BrokerProcess Process { get; private set; } = null!;

    public string DataDirectory => _directory.Path;

    /// <summary>The broker's embedded database, for checking what it stored.</summary>
    public NpgsqlDataSource Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Process = BrokerProcess.Start(new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = _directory.Path });
        await Process.WaitUntilServingAsync();
        Database = NpgsqlDataSource.Create(EmbeddedConnectionString(_directory.Path));
    }

    /// <summary>The connection string of the embedded PostgreSQL a broker runs in a data directory.</summary>
    public static string EmbeddedConnectionString(string dataDirectory)
    {
        var layout = DataDirectoryLayout.Create(dataDirectory);
        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = layout.ReadLastPort() ?? throw new InvalidOperationException("The broker has not started PostgreSQL."),
            Username = EmbeddedPostgres.Username,
            Password = File.ReadAllText(layout.PasswordFile).Trim(),
            Database = "eventstream",
        }.ConnectionString;
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
