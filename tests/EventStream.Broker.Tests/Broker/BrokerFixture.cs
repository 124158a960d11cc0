using EventStream.Testing;

namespace EventStream.Broker.Tests.Broker;

/// <summary>One broker process on a fresh embedded database, shared by the tests of its collection.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly TestDirectory _directory = new();

    public BrokerProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Process = BrokerProcess.Start(new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = _directory.Path });
        await Process.WaitUntilServingAsync();
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "Broker process";
}
