using EventStream.Protocol.V1;
using EventStream.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace EventStream.Client.Tests.Integration;

/// <summary>What a member sees while a broker starts: only statuses that say "retry".</summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerStartupTests
{
    /// <summary>
    /// Broker bug: a Subscribe that arrives after Kestrel listens but before the database is ready fails
    /// with UNKNOWN ("The database is not ready yet"), which clients take as permanent; it should be UNAVAILABLE.
    /// </summary>
    [Fact]
    public async Task Subscribe_while_the_database_starts_fails_only_with_UNAVAILABLE()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var directory = Path.Combine("/tmp", "eventstream-client-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var statuses = new List<StatusCode>();
        try
        {
            await using var starting = BrokerProcess.Start(new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = directory });
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline)
            {
                var status = await JoinAsync(starting.Channel);
                if (status == StatusCode.OK)
                {
                    break;
                }
                statuses.Add(status);
                await Task.Delay(20);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        Assert.NotEmpty(statuses);
        Assert.Equal([StatusCode.Unavailable], statuses.Distinct());
    }

    private static async Task<StatusCode> JoinAsync(GrpcChannel channel)
    {
        using var call = new EventStream.Protocol.V1.Consumer.ConsumerClient(channel).Subscribe(deadline: DateTime.UtcNow.AddSeconds(10));
        try
        {
            var reading = ReadFirstAsync(call);
            var writing = call.RequestStream.WriteAsync(new SubscribeRequest
            {
                Join = new Subscription
                {
                    Group = "g-" + Guid.NewGuid().ToString("N"),
                    Topics = { "startup" },
                    SessionTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)),
                },
            });
            // The write waits for the request stream, which never opens when the connection is refused.
            _ = writing.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            var first = await reading;
            return first?.ResponseCase == SubscribeResponse.ResponseOneofCase.Joined ? StatusCode.OK : StatusCode.Internal;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private static async Task<SubscribeResponse?> ReadFirstAsync(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call) =>
        await call.ResponseStream.MoveNext() ? call.ResponseStream.Current : null;
}
