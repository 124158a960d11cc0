using EventStream.Testing;
using Npgsql;

namespace EventStream.Cli.Tests;

/// <summary>One broker process on a fresh embedded database, shared by the command line's tests.</summary>
public sealed class CliBrokerFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine("/tmp", "eventstream-cli-test-" + Guid.NewGuid().ToString("N"));

    public BrokerProcess Broker { get; private set; } = null!;

    /// <summary>The broker's database, to check what the commands left there (slots, groups).</summary>
    public NpgsqlDataSource Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // 0700 like mktemp -d: as root the launcher hands it to the postgres account.
        Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Broker = BrokerProcess.Start(new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = _directory });
        await Broker.WaitUntilServingAsync();
        Database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(_directory));
    }

    /// <summary>Runs <c>eventstream --broker &lt;this broker&gt; ...</c>.</summary>
    public Task<CliResult> RunAsync(string arguments, string? stdin = null, TimeSpan? timeout = null) =>
        CliProcess.RunAsync(["--broker", Broker.Address, .. Split(arguments)], stdin, timeout: timeout);

    public CliProcess Start(string arguments) => CliProcess.Start(["--broker", Broker.Address, .. Split(arguments)]);

    /// <summary>A topic of the test's own.</summary>
    public async Task<string> NewTopicAsync()
    {
        var topic = "cli-" + Guid.NewGuid().ToString("N")[..12];
        var created = await RunAsync($"topic create {topic}");
        Assert.True(created.ExitCode == 0, created.Stderr);
        return topic;
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var command = Database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async Task DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Splits on spaces; arguments with spaces are not needed here.</summary>
    private static string[] Split(string arguments) => arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliBrokerFixture>
{
    public const string Name = "Command line against a broker";
}
