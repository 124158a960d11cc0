using System.Text.Json;

namespace EventStream.Cli.Tests.Admin;

/// <summary>topic, group and broker commands, and where the broker's address comes from.</summary>
[Collection(CliCollection.Name)]
public sealed class AdminCommandTests(CliBrokerFixture fixture)
{
    [Fact]
    public async Task Topic_create_describe_alter_list_and_delete()
    {
        var topic = "cli-admin-" + Guid.NewGuid().ToString("N")[..8];
        var created = await fixture.RunAsync($"topic create {topic} --retention 2d --description orders");
        Assert.True(created.ExitCode == 0, created.Stderr);
        Assert.Contains("retention 2d", created.Stdout, StringComparison.Ordinal);

        var described = await fixture.RunAsync($"topic describe {topic}");
        Assert.Contains("2d", described.Stdout, StringComparison.Ordinal);
        Assert.Contains("orders", described.Stdout, StringComparison.Ordinal);
        Assert.Contains("32", described.Stdout, StringComparison.Ordinal);
        Assert.Contains("oldest event", described.Stdout, StringComparison.Ordinal);

        var altered = await fixture.RunAsync($"topic alter {topic} --retention 12h --description payments");
        Assert.True(altered.ExitCode == 0, altered.Stderr);
        var listed = await fixture.RunAsync($"topic list --prefix {topic}");
        Assert.Contains(topic, listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("12h", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("payments", listed.Stdout, StringComparison.Ordinal);
        // Plain text in a pipe: no color codes.
        Assert.DoesNotContain("\u001b[", listed.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await fixture.RunAsync($"topic delete {topic}")).ExitCode);
        Assert.DoesNotContain(topic, (await fixture.RunAsync($"topic list --prefix {topic}")).Stdout, StringComparison.Ordinal);
        Assert.Equal(3, (await fixture.RunAsync($"topic delete {topic}")).ExitCode);
    }

    [Fact]
    public async Task Group_list_describe_reset_and_delete()
    {
        var topic = await fixture.NewTopicAsync();
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic} -K :", string.Concat(Enumerable.Range(1, 8).Select(i => $"k:{i}\n")))).ExitCode);
        Assert.Equal(["1", "2", "3"], (await fixture.RunAsync($"consume {topic} --group {group} --count 3")).StdoutLines);

        Assert.Contains(group, (await fixture.RunAsync("group list")).Stdout, StringComparison.Ordinal);
        var shard = EventStream.Protocol.Sharding.ShardHash.ShardOf("k", 32).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var described = await fixture.RunAsync($"group describe {group}");
        Assert.True(described.ExitCode == 0, described.Stderr);
        Assert.Contains(described.StdoutLines, line => line.Contains($" {shard} ", StringComparison.Ordinal));

        var reset = await fixture.RunAsync($"group reset {group} --earliest");
        Assert.True(reset.ExitCode == 0, reset.Stderr);
        Assert.Equal(["1", "2"], (await fixture.RunAsync($"consume {topic} --group {group} --count 2")).StdoutLines);

        Assert.Equal(0, (await fixture.RunAsync($"group delete {group}")).ExitCode);
        Assert.DoesNotContain(group, (await fixture.RunAsync("group list")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_health_says_serving()
    {
        var result = await fixture.RunAsync("broker health");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("SERVING", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_broker_comes_from_the_environment_or_a_profile_file()
    {
        var fromEnvironment = await CliProcess.RunAsync(["broker", "health"], environment: new Dictionary<string, string?> { ["EVENTSTREAM_BROKER"] = fixture.Broker.Target });
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Stderr);

        var profiles = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(profiles, $"# test profiles\nbroker = 127.0.0.1:1\n\n[test]\nbroker = {fixture.Broker.Address}\n");
            var named = await CliProcess.RunAsync(["--profile", "test", "broker", "health"], environment: new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles });
            Assert.True(named.ExitCode == 0, named.Stderr);
            var byVariable = await CliProcess.RunAsync(["broker", "health"],
                environment: new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles, ["EVENTSTREAM_PROFILE"] = "test" });
            Assert.True(byVariable.ExitCode == 0, byVariable.Stderr);
            // The default profile's broker is unreachable; --broker wins over every profile.
            Assert.Equal(4, (await CliProcess.RunAsync(["broker", "health"], environment: new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles })).ExitCode);
            Assert.Equal(0, (await CliProcess.RunAsync(["--broker", fixture.Broker.Address, "broker", "health"], environment: new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles })).ExitCode);
            Assert.Equal(2, (await CliProcess.RunAsync(["--profile", "missing", "broker", "health"], environment: new Dictionary<string, string?> { ["EVENTSTREAM_CONFIG"] = profiles })).ExitCode);
        }
        finally
        {
            File.Delete(profiles);
        }
    }
}
