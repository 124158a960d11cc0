using EventStream.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace EventStream.Broker.Tests.Security;

/// <summary>Without authentication the broker listens on loopback only, unless anonymous access is allowed explicitly.</summary>
public sealed class SecureDefaultTests
{
    [Fact]
    public async Task Broker_without_authentication_refuses_a_non_loopback_address_naming_AllowAnonymous()
    {
        using var directory = new TestDirectory();
        var port = BrokerProcess.FreePort();
        await using var broker = ExternalProcess.Start("dotnet", [BrokerProcess.Dll, "--urls", $"http://0.0.0.0:{port}"], RepositoryPaths.Combine("broker"),
            new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = directory.Path });
        await broker.ReadAllJsonAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, broker.ExitCode);
        Assert.Contains("EventStream:Security:AllowAnonymous", broker.Output);
        Assert.Contains($"http://0.0.0.0:{port}", broker.Output);
        // Refused before anything started: no database was made.
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task AllowAnonymous_lets_the_broker_serve_on_every_interface()
    {
        using var directory = new TestDirectory();
        var port = BrokerProcess.FreePort();
        await using var broker = ExternalProcess.Start("dotnet", [BrokerProcess.Dll, "--urls", $"http://0.0.0.0:{port}"], RepositoryPaths.Combine("broker"),
            new Dictionary<string, string>
            {
                ["EventStream__Embedded__DataDirectory"] = directory.Path,
                ["EventStream__Security__AllowAnonymous"] = "true",
            });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var status = HealthCheckResponse.Types.ServingStatus.Unknown;
        await Wait.UntilAsync(() =>
        {
            Assert.False(broker.HasExited, broker.Output);
            try
            {
                status = health.Check(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).Status;
            }
            catch (Grpc.Core.RpcException)
            {
            }
            return status == HealthCheckResponse.Types.ServingStatus.Serving;
        }, "the broker on 0.0.0.0 serves", TimeSpan.FromSeconds(90));
        broker.Signal("TERM");
        await broker.ReadAllJsonAsync(TimeSpan.FromSeconds(30));
    }
}
