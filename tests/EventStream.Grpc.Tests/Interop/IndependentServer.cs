using EventStream.Testing;

namespace EventStream.Grpc.Tests.Interop;

/// <summary>An echo server that is not ours: grpc-js (node) or grpcio (python's C core).</summary>
public sealed class IndependentServer : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private IndependentServer(ExternalProcess process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    public string Output => _process.Output;

    public static async Task<IndependentServer> StartAsync(string kind)
    {
        var process = kind switch
        {
            "grpc-js" => ExternalProcess.Start("node", [Path.Combine(RepositoryPaths.Interop, "node", "echo-server.js"), "0"]),
            "grpcio" => ExternalProcess.Start("/usr/bin/python3", [Path.Combine(RepositoryPaths.Interop, "python", "echo_server.py"), "0"]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        try
        {
            var ready = await process.WaitForJsonAsync("port", TimeSpan.FromSeconds(30));
            return new IndependentServer(process, $"http://127.0.0.1:{ready.GetProperty("port").GetInt32()}");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>Starts each independent server once for the interop tests.</summary>
public sealed class IndependentServers : IAsyncLifetime
{
    private readonly Dictionary<string, IndependentServer> _servers = [];

    public IndependentServer this[string kind] => _servers[kind];

    public async Task InitializeAsync()
    {
        _servers["grpc-js"] = await IndependentServer.StartAsync("grpc-js");
        _servers["grpcio"] = await IndependentServer.StartAsync("grpcio");
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers.Values)
        {
            await server.DisposeAsync();
        }
    }
}
