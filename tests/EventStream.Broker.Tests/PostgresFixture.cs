using EventStream.Broker.Embedded;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventStream.Broker.Tests;

/// <summary>
/// One embedded PostgreSQL for the test run, started by the broker's own launcher in a fresh
/// directory. Tests that need an empty schema ask for their own database.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly TestDirectory _directory = new();
    private EmbeddedPostgres? _server;

    public EmbeddedPostgres Server => _server ?? throw new InvalidOperationException("Not started.");

    public string DataDirectory => _directory.Path;

    /// <summary>The broker's own database (pg_cron's database).</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = _directory.Path }, NullLogger.Instance, TestTimeout.Token());
        DataSource = NpgsqlDataSource.Create(_server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _directory.Dispose();
    }

    /// <summary>Creates an empty database with a unique name; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = "test_" + Guid.NewGuid().ToString("N");
        await using var command = DataSource.CreateCommand($"CREATE DATABASE {name}");
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
