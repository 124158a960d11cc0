using EventStream.Broker.Health;
using EventStream.Testing;

namespace EventStream.Broker.Tests.Broker;

/// <summary>
/// <c>EventStream.Broker health [address]</c>, the probe container health checks run
/// (compose/Dockerfile, compose/docker-compose.yml).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class HealthCommandTests(BrokerFixture broker)
{
    [Fact]
    public async Task Exits_zero_when_the_broker_is_serving()
    {
        // As a container runs it: the broker's own program, which must not start a broker.
        await using var probe = ExternalProcess.Start("dotnet", [BrokerProcess.Dll, "health", broker.Process.Address]);
        await probe.ReadAllJsonAsync(TimeSpan.FromSeconds(60));

        Assert.True(probe.ExitCode == 0, probe.Output);
        Assert.Contains($"{broker.Process.Address}: Serving", probe.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", probe.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exits_one_when_nothing_answers()
    {
        var output = new StringWriter();
        var address = $"http://127.0.0.1:{BrokerProcess.FreePort()}";

        Assert.Equal(1, await HealthCommand.RunAsync(["health", address], output));
        Assert.Contains("Unavailable", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("health", "--help")]
    [InlineData("health", "127.0.0.1:7400")]
    [InlineData("health", "http://127.0.0.1:7400", "extra")]
    public async Task Exits_two_on_bad_arguments(params string[] args)
    {
        var output = new StringWriter();

        Assert.Equal(2, await HealthCommand.RunAsync(args, output));
        Assert.Contains("http://127.0.0.1:7400", output.ToString(), StringComparison.Ordinal);
    }
}
