using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace EventStream.Testing;

/// <summary>
/// The real broker as its own process (<c>dotnet EventStream.Broker.dll --urls ...</c>), built
/// in the same configuration as the tests. Killed on dispose unless stopped first.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private BrokerProcess(ExternalProcess process, int port, string scheme, GrpcChannelOptions? channelOptions)
    {
        _process = process;
        Port = port;
        Address = $"{scheme}://127.0.0.1:{port}";
        Channel = GrpcChannel.ForAddress(Address, channelOptions ?? new GrpcChannelOptions());
    }

    public int Port { get; }

    /// <summary>The broker's address, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string Address { get; }

    /// <summary>host:port, as grpcurl and the interop scripts take it.</summary>
    public string Target => $"127.0.0.1:{Port}";

    public GrpcChannel Channel { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts a broker; <paramref name="environment"/> configures it (e.g. EventStream__Embedded__DataDirectory).</summary>
    /// <param name="environment">Configuration as environment variables.</param>
    /// <param name="port">The port to listen on; 0 picks a free one.</param>
    /// <param name="scheme">http (h2c) or https (a certificate must be configured).</param>
    /// <param name="channelOptions">Options of <see cref="Channel"/>, e.g. a handler trusting a test certificate.</param>
    public static BrokerProcess Start(IDictionary<string, string> environment, int port = 0, string scheme = "http", GrpcChannelOptions? channelOptions = null)
    {
        port = port == 0 ? FreePort() : port;
        var dll = Dll;
        var env = new Dictionary<string, string>(environment) { ["DOTNET_NOLOGO"] = "1" };
        var process = ExternalProcess.Start("dotnet", [dll, "--urls", $"{scheme}://127.0.0.1:{port}"], RepositoryPaths.Combine("broker"), env);
        return new BrokerProcess(process, port, scheme, channelOptions);
    }

    /// <summary>Waits until Health/Check reports SERVING.</summary>
    public Task WaitUntilServingAsync(TimeSpan? timeout = null) =>
        WaitForHealthAsync(HealthCheckResponse.Types.ServingStatus.Serving, timeout ?? TimeSpan.FromSeconds(90));

    /// <summary>Waits until Health/Check answers with the given status.</summary>
    public async Task WaitForHealthAsync(HealthCheckResponse.Types.ServingStatus status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The broker exited with code {_process.ExitCode}:\n{Output}");
            }
            try
            {
                var response = await new Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (response.Status == status)
                {
                    return;
                }
                last = response.Status.ToString();
            }
            catch (RpcException e)
            {
                last = e.Status.ToString();
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The broker did not report {status} within {timeout} (last: {last}):\n{Output}");
    }

    /// <summary>A clean shutdown (SIGTERM), waiting until the process exited.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _process.Signal("TERM");
        await _process.ReadAllJsonAsync(timeout);
    }

    /// <summary>SIGSTOP: the process freezes, its connections stay open (as in a long pause).</summary>
    public void Pause() => _process.Signal("STOP");

    /// <summary>SIGCONT, after <see cref="Pause"/>.</summary>
    public void Resume() => _process.Signal("CONT");

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Waits for the process to exit (after a kill or a failed start).</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _process.ReadAllJsonAsync(timeout);

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Stops the broker cleanly when it still runs, so it stops its embedded PostgreSQL too (a
    /// killed broker leaves that server running, and a test's deleted directory under it); one
    /// that does not stop within 10 s is killed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (!_process.HasExited)
        {
            try
            {
                // A paused broker handles the signal only once it runs again.
                Resume();
                await StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Not stopped (or no kill command to ask): killed below.
            }
        }
        await _process.DisposeAsync();
    }

    /// <summary>The broker's built assembly, in the tests' build configuration.</summary>
    public static string Dll
    {
        get
        {
            var dll = RepositoryPaths.Combine("broker", "bin", BuildConfiguration, "net10.0", "EventStream.Broker.dll");
            if (!File.Exists(dll))
            {
                throw new InvalidOperationException($"{dll} is missing: build the solution in {BuildConfiguration} first.");
            }
            return dll;
        }
    }

    /// <summary>A loopback port nothing listens on (at the time of asking).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string BuildConfiguration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
