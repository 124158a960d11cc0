using System.Net;
using System.Text.Json;
using EventStream.Testing;

namespace EventStream.Broker.Tests.Broker;

/// <summary>
/// The broker process driven by gRPC clients that are not ours: grpc-js (with
/// grpc-js-reflection-client) and python's grpcio.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerInteropTests(BrokerFixture broker)
{
    [Fact]
    public async Task Grpc_js_client_passes_every_broker_check()
    {
        var results = await RunChecksAsync("node", Path.Combine(RepositoryPaths.Interop, "node", "broker-checks.js"));
        AssertAllPassed(results, "health_check", "reflection_list", "reflection_descriptor", "reflection_v1alpha",
            "health_watch_stream", "unknown_method", "oversized_message", "deadline_exceeded");
    }

    [Fact]
    public async Task Python_grpcio_client_passes_every_broker_check()
    {
        var results = await RunChecksAsync("/usr/bin/python3", Path.Combine(RepositoryPaths.Interop, "python", "broker_checks.py"));
        AssertAllPassed(results, "health_check", "reflection_list", "reflection_v1alpha", "reflection_file_containing_symbol",
            "health_watch_stream", "unknown_method", "oversized_message", "deadline_exceeded", "produce_poll_commit", "read_without_group", "large_events");
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 50, 1, 2 }, "13")]
    [InlineData(new byte[] { 7, 0, 0, 0, 0 }, "2")]
    [InlineData(new byte[] { 0, 0, 0, 0, 2, 0xFF, 0xFF }, "3")]
    public async Task Malformed_frame_gets_an_error_status_and_the_broker_stays_up(byte[] body, string expected)
    {
        using var http = new HttpClient(new SocketsHttpHandler());
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, broker.Process.Address + "/grpc.health.v1.Health/Check")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        // A cut frame is INTERNAL and a bad compression flag UNKNOWN (both grpc-dotnet's, before any
        // broker code); a whole frame whose message cannot be parsed is INVALID_ARGUMENT.
        var status = response.Headers.TryGetValues("grpc-status", out var values) ? values.Single() : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.Equal(expected, status);
        await broker.Process.WaitUntilServingAsync(TimeSpan.FromSeconds(5));
    }

    private async Task<IReadOnlyList<JsonElement>> RunChecksAsync(string program, string script)
    {
        // A group's first start creates a replication slot, which can take seconds on a busy server.
        await using var process = ExternalProcess.Start(program, [script, broker.Process.Target, "--timeout-ms", "60000"]);
        var results = await process.ReadAllJsonAsync(TimeSpan.FromMinutes(2));
        Assert.True(process.ExitCode == 0, $"{script} exited with {process.ExitCode}:\n{process.Output}");
        return results;
    }

    private static void AssertAllPassed(IReadOnlyList<JsonElement> results, params string[] expectedChecks)
    {
        var byName = results.ToDictionary(r => r.GetProperty("check").GetString()!, r => r);
        foreach (var name in expectedChecks)
        {
            Assert.True(byName.TryGetValue(name, out var result), $"Check {name} did not run.");
            Assert.True(result.GetProperty("ok").GetBoolean(), $"Check {name} failed: {result}");
        }
    }
}
