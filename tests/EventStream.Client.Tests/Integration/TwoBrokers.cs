using System.Globalization;
using EventStream.Testing;
using Npgsql;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// Two broker processes on one PostgreSQL, as brokers of one cluster share a database: <see cref="A"/> runs
/// the embedded PostgreSQL in a fresh directory under /tmp, <see cref="B"/> connects to it with
/// <c>ConnectionStrings__EventStream</c>. Both use a short coordinator lease, so a dead broker's groups move
/// within seconds.
/// </summary>
internal sealed class TwoBrokers : IAsyncDisposable
{
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(2);

    private readonly string _directory = Path.Combine("/tmp", "eventstream-client-test-" + Guid.NewGuid().ToString("N"));

    private TwoBrokers()
    {
    }

    /// <summary>The broker that owns the database.</summary>
    public BrokerProcess A { get; private set; } = null!;

    /// <summary>The broker that uses A's database.</summary>
    public BrokerProcess B { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public static async Task<TwoBrokers> StartAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The broker runs PostgreSQL from the machine's binaries: Unix only.");
        }
        var brokers = new TwoBrokers();
        try
        {
            Directory.CreateDirectory(brokers._directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var lease = LeaseDuration.ToString("c", CultureInfo.InvariantCulture);
            brokers.A = BrokerProcess.Start(new Dictionary<string, string>
            {
                ["EventStream__Embedded__DataDirectory"] = brokers._directory,
                ["EventStream__Cluster__CoordinatorLeaseDuration"] = lease,
            });
            await brokers.A.WaitUntilServingAsync();
            var connectionString = EmbeddedDatabase.ConnectionString(brokers._directory);
            brokers.Database = NpgsqlDataSource.Create(connectionString);
            brokers.B = BrokerProcess.Start(new Dictionary<string, string>
            {
                ["ConnectionStrings__EventStream"] = connectionString,
                ["EventStream__Cluster__CoordinatorLeaseDuration"] = lease,
            });
            await brokers.B.WaitUntilServingAsync();
            return brokers;
        }
        catch
        {
            await brokers.DisposeAsync();
            throw;
        }
    }

    /// <summary>The address of the broker running the group now, or null.</summary>
    public async Task<string?> CoordinatorOfAsync(string group)
    {
        await using var command = Database.CreateCommand("SELECT holder_address FROM eventstream.group_coordinator($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>Consumer options for a broker, with test-friendly timings: 3 s sessions, 1 s heartbeats, fast reconnects.</summary>
    public static EventStreamConsumerOptions ConsumerOptions(BrokerProcess broker, string group, string topic) => new()
    {
        Address = broker.Address,
        Group = group,
        Topics = { topic },
        StartPosition = StartPosition.Earliest,
        SessionTimeout = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        AutoCommitInterval = TimeSpan.FromMilliseconds(200),
        ReconnectBackoff = TimeSpan.FromMilliseconds(50),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(500),
    };

    public async ValueTask DisposeAsync()
    {
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        if (A is not null)
        {
            // A clean stop stops the embedded PostgreSQL too; a kill would leave it running.
            try
            {
                if (!A.HasExited)
                {
                    await A.StopAsync(TimeSpan.FromSeconds(60));
                }
            }
            catch (TimeoutException)
            {
            }
            await A.DisposeAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }
}
