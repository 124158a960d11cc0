using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Net.Client;
using Npgsql;

namespace EventStream.Client.Tests.Integration.Citus;

/// <summary>A real broker process running a local Citus cluster: a coordinator and two workers.</summary>
public sealed class CitusBrokerFixture : IAsyncLifetime
{
    // Under /tmp: as root, PostgreSQL runs as the postgres account, which must reach the directory.
    private readonly string _directory = Path.Combine("/tmp", "eventstream-citus-test-" + Guid.NewGuid().ToString("N"));

    public BrokerProcess Process { get; private set; } = null!;

    public string Address => Process.Address;

    public GrpcChannel Channel => Process.Channel;

    public async Task InitializeAsync()
    {
        if (!CitusInstallation.IsInstalled || OperatingSystem.IsWindows())
        {
            return;
        }
        Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Process = BrokerProcess.Start(Environment());
        await Process.WaitUntilServingAsync(TimeSpan.FromMinutes(3));
    }

    /// <summary>Kills the broker (its PostgreSQL servers keep running) and starts it again on the same port and data.</summary>
    public async Task RestartAsync()
    {
        var port = Process.Port;
        Process.Kill();
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await Process.DisposeAsync();
        Process = BrokerProcess.Start(Environment(), port);
        await Process.WaitUntilServingAsync(TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        // The killed broker leaves its PostgreSQL servers running: stop them (fast shutdown).
        foreach (var pidFile in new[] { "pgdata", "worker-1/pgdata", "worker-2/pgdata" }.Select(d => Path.Combine(_directory, d, "postmaster.pid")))
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out var pid))
            {
                using var kill = System.Diagnostics.Process.Start("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }
        }
        await Task.Delay(1000);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A connection string of the coordinator.</summary>
    public string Coordinator => NodeConnectionString(File.ReadAllText(Path.Combine(_directory, "port")).Trim());

    /// <summary>A connection string for a node given its port.</summary>
    public string NodeConnectionString(object port) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = int.Parse(port.ToString()!, System.Globalization.CultureInfo.InvariantCulture),
        Username = "eventstream",
        Password = File.ReadAllText(Path.Combine(_directory, "password")).Trim(),
        Database = "eventstream",
        Pooling = false,
        CommandTimeout = 300,
    }.ConnectionString;

    public async Task<List<object?[]>> QueryAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The workers: node id and port.</summary>
    public async Task<List<(int Id, int Port)>> WorkersAsync() =>
        (await QueryAsync(Coordinator, "SELECT nodeid, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid"))
        .Select(r => ((int)r[0]!, (int)r[1]!)).ToList();

    /// <summary>Per EventStream shard: its Citus shard id and the port of the node holding it.</summary>
    public async Task<Dictionary<int, (long ShardId, int Port)>> PlacementsAsync() =>
        (await QueryAsync(Coordinator, """
            SELECT s.shard, p.shardid, n.nodeport
            FROM generate_series(0, 31) s(shard)
            JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('eventstream.events', s.shard)
            JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
            """)).ToDictionary(r => (int)r[0]!, r => ((long)r[1]!, (int)r[2]!));

    /// <summary>Moves a shard's placement with writes blocked meanwhile (events has no primary key for a logical move).</summary>
    public Task MoveAsync(long shardId, int fromPort, int toPort) =>
        QueryAsync(Coordinator,
            "SELECT citus_move_shard_placement($1, '127.0.0.1', $2, '127.0.0.1', $3, shard_transfer_mode := 'block_writes')",
            shardId, fromPort, toPort);

    public async Task<string> CreateTopicAsync()
    {
        var name = $"t-{Guid.NewGuid():N}";
        await new Admin.AdminClient(Channel).CreateTopicAsync(new CreateTopicRequest { Name = name });
        return name;
    }

    public EventStreamConsumerOptions ConsumerOptions(string group, string topic) => BrokerFixture.TestConsumerOptions(Address, group, topic);

    public EventStreamProducer CreateProducer() => new(new EventStreamProducerOptions { Address = Address, Linger = TimeSpan.FromMilliseconds(2) });

    private Dictionary<string, string> Environment() => new()
    {
        ["EventStream__Embedded__DataDirectory"] = _directory,
        ["EventStream__Embedded__CitusWorkers"] = "2",
    };
}

[CollectionDefinition(Name)]
public sealed class CitusBrokerCollection : ICollectionFixture<CitusBrokerFixture>
{
    public const string Name = "Citus broker";
}
