using Grpc.Core;
using Grpc.Net.Client;

namespace EventStream.Testing;

/// <summary>
/// A broker process with authentication on (API keys, and JWTs from <see cref="TestCredentials"/>),
/// whose first admin was bootstrapped with <c>EventStream.Broker create-api-key admin --admin</c>.
/// </summary>
public sealed class SecureBroker : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _dataDirectory;

    private SecureBroker(string directory, string dataDirectory, BrokerProcess process, string adminKey, TestCredentials credentials)
    {
        _directory = directory;
        _dataDirectory = dataDirectory;
        Process = process;
        AdminKey = adminKey;
        Credentials = credentials;
    }

    public BrokerProcess Process { get; }

    /// <summary>The bootstrapped admin's API key.</summary>
    public string AdminKey { get; }

    /// <summary>Signs the JWTs this broker accepts.</summary>
    public TestCredentials Credentials { get; }

    /// <summary>The embedded PostgreSQL's data directory.</summary>
    public string DataDirectory => _dataDirectory;

    /// <summary>Where the test keeps the broker's files (the JWKS, certificates).</summary>
    public string FilesDirectory => _directory;

    /// <summary>Bootstraps an admin key, then starts the broker; <paramref name="extra"/> adds configuration.</summary>
    public static async Task<SecureBroker> StartAsync(IDictionary<string, string>? extra = null)
    {
        var directory = NewDirectory("eventstream-secure-");
        // Directly under /tmp: as root, PostgreSQL runs as the postgres account, which must reach it.
        var dataDirectory = NewDirectory("eventstream-test-");
        var credentials = new TestCredentials();
        var jwks = Path.Combine(directory, "jwks.json");
        await File.WriteAllTextAsync(jwks, credentials.Jwks);
        var environment = new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = dataDirectory,
            ["EventStream__Security__ApiKeys__Enabled"] = "true",
            // Fewer rounds than production keep the tests quick; the stored hash records its count.
            ["EventStream__Security__ApiKeys__HashIterations"] = "50000",
            ["EventStream__Security__Jwt__JwksFile"] = jwks,
            ["EventStream__Security__Jwt__Issuer"] = TestCredentials.Issuer,
            ["EventStream__Security__Jwt__Audience"] = TestCredentials.Audience,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        var adminKey = await CreateApiKeyAsync(environment, "admin", "--admin");
        var process = BrokerProcess.Start(environment);
        await process.WaitUntilServingAsync();
        return new SecureBroker(directory, dataDirectory, process, adminKey, credentials);
    }

    /// <summary>Runs <c>EventStream.Broker create-api-key</c> and returns the key it printed.</summary>
    public static async Task<string> CreateApiKeyAsync(IDictionary<string, string> environment, params string[] arguments)
    {
        var env = new Dictionary<string, string>(environment) { ["DOTNET_NOLOGO"] = "1" };
        await using var command = ExternalProcess.Start("dotnet", [BrokerProcess.Dll, "create-api-key", .. arguments], RepositoryPaths.Combine("broker"), env);
        await command.ReadAllJsonAsync(TimeSpan.FromMinutes(2));
        if (command.ExitCode != 0)
        {
            throw new InvalidOperationException($"create-api-key exited with {command.ExitCode}:\n{command.Output}");
        }
        return command.Output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("esk_", StringComparison.Ordinal));
    }

    /// <summary>Call options carrying <c>authorization: Bearer &lt;token&gt;</c>.</summary>
    public static CallOptions Bearer(string token) => new(new Metadata { { "authorization", "Bearer " + token } });

    /// <summary>A channel to the broker that sends <paramref name="token"/> with every call.</summary>
    public GrpcChannel ChannelWith(string token) => GrpcChannel.ForAddress(Process.Address, new GrpcChannelOptions
    {
        Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure,
            CallCredentials.FromInterceptor((_, metadata) => { metadata.Add("authorization", "Bearer " + token); return Task.CompletedTask; })),
        UnsafeUseInsecureChannelCallCredentials = true,
    });

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        Credentials.Dispose();
        foreach (var directory in new[] { _directory, _dataDirectory })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the OS to clean up.
            }
        }
    }

    private static string NewDirectory(string prefix)
    {
        var path = Path.Combine("/tmp", prefix + Guid.NewGuid().ToString("N"));
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }
}
