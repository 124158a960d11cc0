using EventStream.Grpc.Client;
using EventStream.Grpc.Tests.Server;
using EventStream.Interop.V1;
using Google.Protobuf;

namespace EventStream.Grpc.Tests.Interop;

/// <summary>Our client against gRPC servers that are not ours, so the wire format is proven from both sides.</summary>
public sealed class ClientAgainstIndependentServersTests(IndependentServers servers) : IClassFixture<IndependentServers>
{
    public static TheoryData<string> Servers => new() { "grpc-js", "grpcio" };

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Unary_call_round_trips(string server)
    {
        using var channel = Channel(server);
        Assert.Equal("hello", (await channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "hello" })).Message);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Server_streaming_receives_every_response(string server)
    {
        using var channel = Channel(server);
        using var call = channel.StartCall(EchoService.ServerStream, new EchoRequest { Message = "s", Repeat = 4 });
        var indexes = new List<int>();
        await foreach (var response in call.ReadAllAsync())
        {
            indexes.Add(response.Index);
        }
        Assert.Equal([0, 1, 2, 3], indexes);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Client_streaming_sends_every_request(string server)
    {
        using var channel = Channel(server);
        using var call = channel.StartStreamingCall(EchoService.ClientStream);
        foreach (var word in new[] { "x", "y", "z" })
        {
            await call.WriteAsync(new EchoRequest { Message = word });
        }
        await call.CompleteRequestsAsync();
        Assert.Equal("x,y,z", (await call.ResponseAsync).Message);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Duplex_streaming_interleaves_requests_and_responses(string server)
    {
        using var channel = Channel(server);
        using var call = channel.StartStreamingCall(EchoService.Duplex);
        for (var i = 0; i < 3; i++)
        {
            await call.WriteAsync(new EchoRequest { Message = "m" + i });
            Assert.Equal("m" + i, (await call.ReadNextAsync())!.Message);
        }
        await call.CompleteRequestsAsync();
        Assert.Null(await call.ReadNextAsync());
        Assert.Equal(GrpcStatusCode.OK, call.GetStatus().Code);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Metadata_and_binary_trailers_round_trip(string server)
    {
        using var channel = Channel(server);
        var binary = new byte[] { 0, 128, 255, 7 };
        var headers = new Metadata().Add("x-echo-initial", "hi").Add("x-echo-trailer", "bye").Add("x-echo-trailer-bin", binary);
        using var call = channel.StartCall(EchoService.Unary, new EchoRequest { Message = "m" }, new CallOptions(headers));
        var response = await call.ResponseAsync;
        Assert.Equal("hi", response.RequestHeaders["x-echo-initial"]);
        Assert.Equal("hi", (await call.GetResponseHeadersAsync()).GetValue("x-echo-initial"));
        Assert.Equal("bye", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(binary, call.GetTrailers().GetBytes("x-echo-trailer-bin"));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Error_status_with_a_percent_encoded_message(string server)
    {
        using var channel = Channel(server);
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(EchoService.Unary,
            new EchoRequest { FailWithCode = (int)GrpcStatusCode.AlreadyExists, FailMessage = "déjà 50% vu ✓" }));
        Assert.Equal(GrpcStatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("déjà 50% vu ✓", error.Status.Detail);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Deadline_is_sent_and_enforced(string server)
    {
        using var channel = Channel(server);
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(EchoService.Unary,
            new EchoRequest { DelayMs = 10_000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(300))));
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Cancellation_reaches_the_server(string server)
    {
        using var channel = Channel(server);
        var before = await CancelledCountAsync(channel);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(EchoService.Unary,
            new EchoRequest { DelayMs = 10_000 }, new CallOptions(CancellationToken: cts.Token)));
        Assert.Equal(GrpcStatusCode.Cancelled, error.StatusCode);

        // The server learns of it asynchronously.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await CancelledCountAsync(channel) <= before)
        {
            Assert.True(DateTime.UtcNow < deadline, "The server never saw the cancellation.");
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Gzip_requests_are_understood(string server)
    {
        using var channel = Channel(server, new GrpcChannelOptions { CompressRequests = true });
        var response = await channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "z", Padding = ByteString.CopyFrom(new byte[30_000]) });
        Assert.Equal(30_000, response.PaddingSize);
    }

    [Fact]
    public async Task Gzip_responses_are_decompressed()
    {
        // Only grpcio compresses responses.
        using var channel = Channel("grpcio");
        var headers = new Metadata().Add("x-compress-response", "gzip");
        using var call = channel.StartCall(EchoService.ServerStream, new EchoRequest { Message = new string('c', 5000), Repeat = 3 }, new CallOptions(headers));
        var messages = new List<string>();
        await foreach (var response in call.ReadAllAsync())
        {
            messages.Add(response.Message);
        }
        Assert.Equal(3, messages.Count);
        Assert.All(messages, m => Assert.Equal(5000, m.Length));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Server_size_limit_is_resource_exhausted(string server)
    {
        using var channel = Channel(server, new GrpcChannelOptions { MaxSendMessageSize = 16 << 20 });
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(EchoService.Unary,
            new EchoRequest { Padding = ByteString.CopyFrom(new byte[5 << 20]) }));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Unknown_method_is_unimplemented(string server)
    {
        using var channel = Channel(server);
        var method = new Method<EchoRequest, EchoResponse>(MethodType.Unary, "interop.v1.Echo", "Nope");
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(method, new EchoRequest()));
        Assert.Equal(GrpcStatusCode.Unimplemented, error.StatusCode);
    }

    private GrpcChannel Channel(string server, GrpcChannelOptions? options = null) => GrpcChannel.ForAddress(servers[server].Address, options);

    private static async Task<int> CancelledCountAsync(GrpcChannel channel) =>
        (await channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "__cancelled_count" })).Index;
}
