using System.Net;
using EventStream.Grpc.Client;
using EventStream.Interop.V1;
using Google.Protobuf;

namespace EventStream.Grpc.Tests.Server;

/// <summary>Our client against our server over real HTTP/2 sockets.</summary>
public sealed class ServerAndClientTests : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(o => o.MaxReceiveMessageSize = 64 * 1024);
        _channel = GrpcChannel.ForAddress(_server.Address, new GrpcChannelOptions { MaxSendMessageSize = 1 << 20 });
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_call_round_trips()
    {
        var response = await _channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "hello" });
        Assert.Equal("hello", response.Message);
    }

    [Fact]
    public async Task Server_streaming_sends_every_response_then_ok()
    {
        using var call = _channel.StartCall(EchoService.ServerStream, new EchoRequest { Message = "m", Repeat = 5 });
        var indexes = new List<int>();
        await foreach (var response in call.ReadAllAsync())
        {
            indexes.Add(response.Index);
        }
        Assert.Equal([0, 1, 2, 3, 4], indexes);
        Assert.Equal(GrpcStatusCode.OK, call.GetStatus().Code);
    }

    [Fact]
    public async Task Client_streaming_receives_every_request()
    {
        using var call = _channel.StartStreamingCall(EchoService.ClientStream);
        foreach (var word in new[] { "a", "b", "c" })
        {
            await call.WriteAsync(new EchoRequest { Message = word });
        }
        await call.CompleteRequestsAsync();
        Assert.Equal("a,b,c", (await call.ResponseAsync).Message);
    }

    [Fact]
    public async Task Duplex_streaming_answers_each_request_as_it_arrives()
    {
        using var call = _channel.StartStreamingCall(EchoService.Duplex);
        for (var i = 0; i < 3; i++)
        {
            await call.WriteAsync(new EchoRequest { Message = "ping" + i });
            var response = await call.ReadNextAsync();
            Assert.Equal("ping" + i, response!.Message);
            Assert.Equal(i, response.Index);
        }
        await call.CompleteRequestsAsync();
        Assert.Null(await call.ReadNextAsync());
        Assert.Equal(GrpcStatusCode.OK, call.GetStatus().Code);
    }

    [Fact]
    public async Task Metadata_travels_both_ways_including_binary()
    {
        var binary = new byte[] { 0, 1, 2, 250, 255 };
        var headers = new Metadata().Add("x-echo-initial", "first").Add("x-echo-trailer", "last").Add("x-echo-trailer-bin", binary).Add("x-custom-bin", binary);
        using var call = _channel.StartCall(EchoService.Unary, new EchoRequest { Message = "m" }, new CallOptions(headers));
        var response = await call.ResponseAsync;

        Assert.Equal(Convert.ToBase64String(binary), response.RequestHeaders["x-custom-bin"]);
        Assert.Equal("first", (await call.GetResponseHeadersAsync()).GetValue("x-echo-initial"));
        Assert.Equal("last", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(binary, call.GetTrailers().GetBytes("x-echo-trailer-bin"));
    }

    [Fact]
    public async Task Error_status_keeps_a_non_ascii_message_and_trailers()
    {
        var headers = new Metadata().Add("x-echo-trailer", "still here");
        using var call = _channel.StartCall(EchoService.Unary,
            new EchoRequest { FailWithCode = (int)GrpcStatusCode.NotFound, FailMessage = "topic «ventes» 100% gone\n" }, new CallOptions(headers));
        var error = await Assert.ThrowsAsync<GrpcException>(() => call.ResponseAsync);
        Assert.Equal(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.Equal("topic «ventes» 100% gone\n", error.Status.Detail);
        Assert.Equal("still here", error.Trailers.GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task Failure_after_stream_responses_arrives_after_them()
    {
        using var call = _channel.StartStreamingCall(EchoService.Duplex);
        await call.WriteAsync(new EchoRequest { Message = "ok" });
        Assert.Equal("ok", (await call.ReadNextAsync())!.Message);
        await call.WriteAsync(new EchoRequest { FailWithCode = (int)GrpcStatusCode.FailedPrecondition, FailMessage = "stale" });
        var error = await Assert.ThrowsAsync<GrpcException>(async () => await call.ReadNextAsync());
        Assert.Equal(GrpcStatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Expired_deadline_is_deadline_exceeded_and_cancels_the_handler()
    {
        // Long enough for the handler to start even on a loaded machine; it then must be cancelled.
        var call = _channel.UnaryAsync(EchoService.Unary, new EchoRequest { DelayMs = 60_000 }, CallOptions.WithTimeout(TimeSpan.FromSeconds(3)));
        await _server.Echo.Delaying.WaitAsync(TimeSpan.FromSeconds(10));
        var error = await Assert.ThrowsAsync<GrpcException>(() => call);
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
        await _server.Echo.Cancelled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Server_enforces_the_deadline_it_is_sent()
    {
        // A raw request whose deadline only the server knows about.
        using var http = RawClient();
        using var request = RawRequest("/interop.v1.Echo/Unary", Frame(new EchoRequest { DelayMs = 30_000 }));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("4", GrpcStatusHeader(response));
    }

    [Fact]
    public async Task Client_cancellation_reaches_the_server()
    {
        using var cts = new CancellationTokenSource();
        var call = _channel.UnaryAsync(EchoService.Unary, new EchoRequest { DelayMs = 60_000 }, new CallOptions(CancellationToken: cts.Token));
        await _server.Echo.Delaying.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();
        var error = await Assert.ThrowsAsync<GrpcException>(() => call);
        Assert.Equal(GrpcStatusCode.Cancelled, error.StatusCode);
        await _server.Echo.Cancelled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Oversized_request_is_resource_exhausted_and_the_server_keeps_serving()
    {
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            _channel.UnaryAsync(EchoService.Unary, new EchoRequest { Padding = ByteString.CopyFrom(new byte[100 * 1024]) }));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("after", (await _channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "after" })).Message);
    }

    [Fact]
    public async Task Client_refuses_to_send_over_its_own_limit()
    {
        using var small = GrpcChannel.ForAddress(_server.Address, new GrpcChannelOptions { MaxSendMessageSize = 100 });
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            small.UnaryAsync(EchoService.Unary, new EchoRequest { Padding = ByteString.CopyFrom(new byte[200]) }));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Client_rejects_a_response_over_its_receive_limit()
    {
        using var small = GrpcChannel.ForAddress(_server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 10 });
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            small.UnaryAsync(EchoService.Unary, new EchoRequest { Message = new string('x', 100) }));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Gzip_requests_are_accepted()
    {
        using var gzip = GrpcChannel.ForAddress(_server.Address, new GrpcChannelOptions { CompressRequests = true });
        var response = await gzip.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "zipped", Padding = ByteString.CopyFrom(new byte[50_000]) });
        Assert.Equal("zipped", response.Message);
        Assert.Equal(50_000, response.PaddingSize);
    }

    [Fact]
    public async Task Unknown_encoding_is_unimplemented()
    {
        using var http = RawClient();
        using var request = RawRequest("/interop.v1.Echo/Unary", Frame(new EchoRequest()));
        request.Headers.TryAddWithoutValidation("grpc-encoding", "snappy");
        using var response = await http.SendAsync(request);
        Assert.Equal("12", GrpcStatusHeader(response));
        Assert.Contains("gzip", response.Headers.GetValues("grpc-accept-encoding").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var method = new Method<EchoRequest, EchoResponse>(MethodType.Unary, "interop.v1.Nope", "Missing");
        var error = await Assert.ThrowsAsync<GrpcException>(() => _channel.UnaryAsync(method, new EchoRequest()));
        Assert.Equal(GrpcStatusCode.Unimplemented, error.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 50, 1, 2 })]
    [InlineData(new byte[] { 9, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF })]
    public async Task Malformed_frame_gets_an_error_status_and_the_server_keeps_serving(byte[] body)
    {
        using var http = RawClient();
        using var response = await http.SendAsync(RawRequest("/interop.v1.Echo/Unary", body));
        await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("13", GrpcStatusHeader(response));
        Assert.Equal("after", (await _channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = "after" })).Message);
    }

    [Fact]
    public async Task Non_grpc_requests_get_a_plain_http_answer()
    {
        using var http = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.Address + "/interop.v1.Echo/Unary")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Streaming_write_to_an_unreachable_server_fails_with_unavailable()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var closed = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        using var call = closed.StartStreamingCall(EchoService.Duplex);

        var error = await Assert.ThrowsAsync<GrpcException>(() => call.WriteAsync(new EchoRequest { Message = "anyone?" }).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Many_concurrent_calls_share_one_channel()
    {
        var calls = Enumerable.Range(0, 200).Select(i => _channel.UnaryAsync(EchoService.Unary, new EchoRequest { Message = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        var responses = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), responses.Select(r => r.Message));
    }

    private static HttpClient RawClient() => new(new SocketsHttpHandler());

    private HttpRequestMessage RawRequest(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        var request = new HttpRequestMessage(HttpMethod.Post, _server.Address + path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    private static byte[] Frame(IMessage message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        EventStream.Grpc.Wire.MessageFraming.WriteMessage(buffer, message, int.MaxValue, EventStream.Grpc.Wire.MessageCompression.None);
        return buffer.WrittenSpan.ToArray();
    }

    private static string? GrpcStatusHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("grpc-status", out var values) ? values.Single()
        : response.TrailingHeaders.TryGetValues("grpc-status", out values) ? values.Single()
        : null;
}
