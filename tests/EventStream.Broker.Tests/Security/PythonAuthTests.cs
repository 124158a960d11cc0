using EventStream.Testing;

namespace EventStream.Broker.Tests.Security;

/// <summary>python3-grpcio against a broker with API keys on (tests/interop/python/auth_checks.py).</summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class PythonAuthTests(SecureBrokerFixture fixture)
{
    [Fact]
    public async Task Python_grpcio_with_a_key_in_metadata_is_served_and_without_it_is_unauthenticated()
    {
        var principal = SecureBrokerFixture.Unique("py");
        var key = await fixture.CreateKeyAsync(principal);
        await using var process = ExternalProcess.Start("/usr/bin/python3",
            [Path.Combine(RepositoryPaths.Interop, "python", "auth_checks.py"), fixture.Broker.Process.Target, key, principal]);
        var results = await process.ReadAllJsonAsync(TimeSpan.FromMinutes(1));
        Assert.True(process.ExitCode == 0, $"auth_checks.py exited with {process.ExitCode}:\n{process.Output}");
        var checks = results.ToDictionary(r => r.GetProperty("check").GetString()!, r => r.GetProperty("ok").GetBoolean());
        Assert.Equal(new Dictionary<string, bool>
        {
            ["with_key_served"] = true,
            ["without_key_unauthenticated"] = true,
            ["without_key_whoami_unauthenticated"] = true,
        }, checks);
        Assert.DoesNotContain(key, fixture.Broker.Process.Output);
    }
}
