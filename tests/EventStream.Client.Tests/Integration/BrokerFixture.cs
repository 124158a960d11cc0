using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Net.Client;

namespace EventStream.Client.Tests.Integration;

/// <summary>One real broker process on a fresh embedded PostgreSQL, shared by the integration tests.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    // Under /tmp: as root, PostgreSQL runs as the postgres account, which must reach the directory.
    private readonly string _directory = Path.Combine("/tmp", "eventstream-client-test-" + Guid.NewGuid().ToString("N"));

    public BrokerProcess Process { get; private set; } = null!;

    public string Address => Process.Address;

    public GrpcChannel Channel => Process.Channel;

    public async Task InitializeAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The broker runs PostgreSQL from the machine's binaries: Unix only.");
        }
        Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Process = BrokerProcess.Start(BrokerEnvironment);
        await Process.WaitUntilServingAsync();
    }

    /// <summary>Kills the broker (its PostgreSQL keeps running) and starts it again on the same port and data.</summary>
    public async Task RestartAsync()
    {
        var port = Process.Port;
        Process.Kill();
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await Process.DisposeAsync();
        Process = BrokerProcess.Start(BrokerEnvironment, port);
        await Process.WaitUntilServingAsync();
    }

    private Dictionary<string, string> BrokerEnvironment => new()
    {
        ["EventStream__Embedded__DataDirectory"] = _directory,
        // A killed broker's groups wait for its coordinator lease to expire before the restarted one runs them.
        ["EventStream__Cluster__CoordinatorLeaseDuration"] = "00:00:03",
    };

    public async Task DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
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

    /// <summary>Creates a topic with a unique name.</summary>
    public async Task<string> CreateTopicAsync(string prefix = "t")
    {
        var name = $"{prefix}-{Guid.NewGuid():N}";
        await new Admin.AdminClient(Channel).CreateTopicAsync(new CreateTopicRequest { Name = name });
        return name;
    }

    /// <summary>A unique group name.</summary>
    public static string NewGroup() => "g-" + Guid.NewGuid().ToString("N");

    /// <summary>Consumer options with test-friendly timings: 3 s sessions, 1 s heartbeats, fast reconnects.</summary>
    public EventStreamConsumerOptions ConsumerOptions(string group, string topic, Action<EventStreamConsumerOptions>? configure = null)
    {
        var options = TestConsumerOptions(Address, group, topic);
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Consumer options of a broker at <paramref name="address"/> with the tests' timings.</summary>
    public static EventStreamConsumerOptions TestConsumerOptions(string address, string group, string topic) => new()
    {
        Address = address,
        Group = group,
        Topics = { topic },
        SessionTimeout = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        AutoCommitInterval = TimeSpan.FromMilliseconds(200),
        ReconnectBackoff = TimeSpan.FromMilliseconds(50),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(500),
    };

    public EventStreamProducer CreateProducer() => new(new EventStreamProducerOptions { Address = Address, Linger = TimeSpan.FromMilliseconds(2) });
}

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "Consumer integration broker";
}
