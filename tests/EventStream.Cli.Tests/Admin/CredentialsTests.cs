using EventStream.Testing;

namespace EventStream.Cli.Tests.Admin;

/// <summary>A broker with API keys and JWTs: credentials from options, the environment and a profile; refusals as exit code 5.</summary>
public sealed class CredentialsTests : IAsyncLifetime
{
    private SecureBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await SecureBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Credentials_from_options_environment_or_profile_reach_every_command()
    {
        var address = _broker.Process.Address;
        var key = _broker.AdminKey;
        var topic = "cli-secure-" + Guid.NewGuid().ToString("N")[..8];

        var anonymous = await CliProcess.RunAsync(["--broker", address, "topic", "list"]);
        AssertDenied(anonymous);

        var created = await CliProcess.RunAsync(["--broker", address, "--api-key", key, "topic", "create", topic]);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var produced = await CliProcess.RunAsync(["--broker", address, "--api-key", key, "produce", topic, "-K", ":"], "k:1\nk:2\nk:3\n");
        Assert.True(produced.ExitCode == 0, produced.Stderr);

        var fromEnvironment = await CliProcess.RunAsync(["--broker", address, "consume", topic], environment: new Dictionary<string, string?> { ["EVENTSTREAM_API_KEY"] = key });
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Stderr);
        Assert.Equal(["1", "2", "3"], fromEnvironment.StdoutLines);

        var profiles = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(profiles, $"[secure]\nbroker = {address}\napi_key = {key}\n");
            var environment = new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles };
            // A group member: its own channel from the SDK, with the same credentials.
            var member = await CliProcess.RunAsync(["--profile", "secure", "consume", topic, "--group", "secure-group", "--count", "2"], environment: environment);
            Assert.True(member.ExitCode == 0, member.Stderr);
            Assert.Equal(["1", "2"], member.StdoutLines);
            var described = await CliProcess.RunAsync(["--profile", "secure", "group", "describe", "secure-group"], environment: environment);
            Assert.True(described.ExitCode == 0, described.Stderr);
        }
        finally
        {
            File.Delete(profiles);
        }

        AssertDenied(await CliProcess.RunAsync(["--broker", address, "--api-key", "esk_not-a-key", "consume", topic]));
        // Authenticated, without the right to create topics.
        var token = _broker.Credentials.Token("cli-nobody");
        AssertDenied(await CliProcess.RunAsync(["--broker", address, "--token", token, "topic", "create", topic + "-x"]));
        var both = await CliProcess.RunAsync(["--broker", address, "--token", token, "--api-key", key, "topic", "list"]);
        Assert.Equal(2, both.ExitCode);
    }

    private static void AssertDenied(CliResult result)
    {
        Assert.True(result.ExitCode == 5, $"exit code {result.ExitCode}: {result.Stderr}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("eventstream: ", line, StringComparison.Ordinal);
    }
}
