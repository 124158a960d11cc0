using EventStream.Broker.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Tests.Storage;

/// <summary>"Connection string or embedded", driven through a real host.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseEndpointTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Configured_connection_string_is_used_and_migrated()
    {
        var ct = TestTimeout.Token();
        var connectionString = await fixture.CreateDatabaseAsync(ct);
        using var host = BuildHost(new() { ["ConnectionStrings:EventStream"] = connectionString });
        var endpoint = host.Services.GetRequiredService<DatabaseEndpoint>();

        await host.StartAsync(ct);
        var dataSource = await endpoint.Ready.WaitAsync(ct);

        Assert.False(endpoint.IsEmbedded);
        Assert.Null(endpoint.Embedded);
        Assert.Same(dataSource, endpoint.DataSource);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM eventstream.schema_migrations");
        Assert.Equal((long)MigrationSource.Load().Count, await command.ExecuteScalarAsync(ct));
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task Without_connection_string_the_embedded_server_is_started_and_stopped()
    {
        var ct = TestTimeout.Token();
        using var directory = new TestDirectory();
        using var host = BuildHost(new() { ["EventStream:Embedded:DataDirectory"] = directory.Path });
        var endpoint = host.Services.GetRequiredService<DatabaseEndpoint>();

        await host.StartAsync(ct);
        var dataSource = await endpoint.Ready.WaitAsync(ct);
        var port = endpoint.Embedded!.Port;
        await using (var command = dataSource.CreateCommand("SELECT current_database()"))
        {
            Assert.Equal("eventstream", await command.ExecuteScalarAsync(ct));
        }

        await host.StopAsync(ct);

        var connectionString = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Pooling = false, Timeout = 2 };
        await using var connection = new NpgsqlConnection(connectionString.ConnectionString);
        var e = await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync(ct));
        Assert.IsNotType<PostgresException>(e);
    }

    [Fact]
    public async Task Unusable_database_faults_readiness_and_stops_the_application()
    {
        var ct = TestTimeout.Token();
        var wrongPassword = new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString) { Password = "wrong" };
        using var host = BuildHost(new() { ["ConnectionStrings:EventStream"] = wrongPassword.ConnectionString });
        var endpoint = host.Services.GetRequiredService<DatabaseEndpoint>();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var exitCode = Environment.ExitCode;

        try
        {
            await host.StartAsync(ct);
            var e = await Assert.ThrowsAsync<PostgresException>(() => endpoint.Ready.WaitAsync(ct));

            Assert.Equal(PostgresErrorCodes.InvalidPassword, e.SqlState);
            Assert.True(lifetime.ApplicationStopping.IsCancellationRequested);
            Assert.Equal(1, Environment.ExitCode);
            Assert.Throws<DatabaseNotReadyException>(() => endpoint.DataSource);
        }
        finally
        {
            // The test process must not inherit the broker's failure exit code.
            Environment.ExitCode = exitCode;
            await host.StopAsync(ct);
        }
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Services.AddEventStreamDatabase(builder.Configuration);
        return builder.Build();
    }
}
