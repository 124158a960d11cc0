using EventStream.Broker.Embedded;
using EventStream.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventStream.Broker.Tests.Citus;

public sealed class CitusStartupTests
{
    [CitusFact]
    public async Task Broker_on_a_cluster_distributes_events_by_shard()
    {
        using var directory = new TestDirectory();
        await using var cluster = await StartClusterAsync(directory);
        await using var broker = BrokerProcess.Start(new Dictionary<string, string> { ["ConnectionStrings__EventStream"] = cluster.ConnectionString });
        await broker.WaitUntilServingAsync(TimeSpan.FromMinutes(2));

        await using var coordinator = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var distribution = coordinator.CreateCommand(
            "SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE logicalrelid = 'eventstream.events'::regclass");
        Assert.Equal("shard", await distribution.ExecuteScalarAsync());
        await using var workers = coordinator.CreateCommand(
            "SELECT count(DISTINCT p.groupid) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) WHERE s.logicalrelid = 'eventstream.events'::regclass");
        Assert.Equal(2L, await workers.ExecuteScalarAsync());
    }

    [CitusFact]
    public async Task Startup_fails_fast_naming_the_node_without_change_data_capture()
    {
        using var directory = new TestDirectory();
        await using var cluster = await StartClusterAsync(directory);
        var worker = new NpgsqlConnectionStringBuilder(cluster.WorkerConnectionStrings[1]);
        await using (var connection = new NpgsqlConnection(worker.ConnectionString))
        {
            await connection.OpenAsync();
            await using var off = new NpgsqlCommand("ALTER SYSTEM SET citus.enable_change_data_capture = off", connection);
            await off.ExecuteNonQueryAsync();
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync();
        }

        await using var broker = BrokerProcess.Start(new Dictionary<string, string> { ["ConnectionStrings__EventStream"] = cluster.ConnectionString });
        await broker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, broker.ExitCode);
        Assert.Contains($"Citus node {worker.Host}:{worker.Port} has citus.enable_change_data_capture = off", broker.Output, StringComparison.Ordinal);
    }

    private static Task<LocalCitusCluster> StartClusterAsync(TestDirectory directory) =>
        LocalCitusCluster.StartAsync(new EmbeddedPostgresOptions { DataDirectory = directory.Path, CitusWorkers = 2 }, NullLogger.Instance, CancellationToken.None);
}
