using System.Runtime.Versioning;
using Npgsql;

namespace EventStream.Broker.Embedded;

/// <summary>
/// A Citus cluster on this machine: a coordinator and workers, each an <see cref="EmbeddedPostgres"/>
/// on its own loopback port, sharing one password. For trying and testing the Citus mode without
/// a real cluster; the broker treats it like any other Citus cluster.
/// </summary>
public sealed class LocalCitusCluster : IAsyncDisposable
{
    private readonly EmbeddedPostgres _coordinator;
    private readonly IReadOnlyList<EmbeddedPostgres> _workers;

    private LocalCitusCluster(EmbeddedPostgres coordinator, IReadOnlyList<EmbeddedPostgres> workers)
    {
        _coordinator = coordinator;
        _workers = workers;
    }

    /// <summary>The coordinator's connection string, to the broker's database.</summary>
    public string ConnectionString => _coordinator.ConnectionString;

    /// <summary>The workers' connection strings.</summary>
    public IReadOnlyList<string> WorkerConnectionStrings => _workers.Select(w => w.ConnectionString).ToList();

    /// <summary>Where worker <paramref name="number"/> (from 1) keeps its files.</summary>
    public static string WorkerDirectory(string dataDirectory, int number) => Path.Combine(dataDirectory, $"worker-{number}");

    /// <summary>Starts the nodes, creates the citus extension on each and registers the workers with the coordinator.</summary>
    [UnsupportedOSPlatform("windows")]
    public static async Task<LocalCitusCluster> StartAsync(EmbeddedPostgresOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CitusWorkers < 1)
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}:CitusWorkers must be at least 1 for a Citus cluster.");
        }
        var coordinator = await EmbeddedPostgres.StartAsync(options, logger, citus: true, password: null, cancellationToken);
        var workers = new List<EmbeddedPostgres>();
        var cluster = new LocalCitusCluster(coordinator, workers);
        try
        {
            for (var number = 1; number <= options.CitusWorkers; number++)
            {
                var workerOptions = new EmbeddedPostgresOptions
                {
                    DataDirectory = WorkerDirectory(coordinator.DataDirectory, number),
                    BinDirectory = options.BinDirectory,
                    Database = options.Database,
                    MaxSlotWalKeepSize = options.MaxSlotWalKeepSize,
                    MaxReplicationSlots = options.MaxReplicationSlots,
                    Timeout = options.Timeout,
                    PreloadPgCron = options.PreloadPgCron,
                    OsUser = options.OsUser,
                };
                workers.Add(await EmbeddedPostgres.StartAsync(workerOptions, logger, citus: true, coordinator.Password, cancellationToken));
            }
            await cluster.ConfigureAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the workers, then the coordinator.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        await _coordinator.DisposeAsync();
    }

    private async Task ConfigureAsync(CancellationToken cancellationToken)
    {
        // Nodes connect to one another (queries, shard moves) as the same user with the shared password.
        foreach (var node in _workers.Prepend(_coordinator))
        {
            await ExecuteAsync(node, cancellationToken,
                "CREATE EXTENSION IF NOT EXISTS citus",
                $"INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, '{EmbeddedPostgres.Username}', 'password={_coordinator.Password}') ON CONFLICT DO NOTHING");
        }
        await ExecuteAsync(_coordinator, cancellationToken, $"SELECT citus_set_coordinator_host('127.0.0.1', {_coordinator.Port})");
        foreach (var worker in _workers)
        {
            // A worker that came up on another port than last time keeps its node id and shards.
            var moved = worker.PreviousPort is { } previous && previous != worker.Port
                ? $"SELECT citus_update_node(nodeid, '127.0.0.1', {worker.Port}) FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = {previous}"
                : "SELECT 1";
            await ExecuteAsync(_coordinator, cancellationToken,
                moved,
                $"SELECT citus_add_node('127.0.0.1', {worker.Port}) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = {worker.Port})");
        }
    }

    private static async Task ExecuteAsync(EmbeddedPostgres node, CancellationToken cancellationToken, params string[] statements)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(node.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
