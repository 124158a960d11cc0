using EventStream.Broker.Tests.Broker;
using EventStream.Protocol.V1;
using Grpc.Net.Client;

namespace EventStream.Broker.Tests.Transport;

/// <summary>Responses are gzip-compressed for clients that accept gzip, and only for them.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ResponseCompressionTests(BrokerFixture broker)
{
    [Fact]
    public async Task A_client_accepting_gzip_gets_compressed_responses()
    {
        var (encoding, topics) = await ListTopicsAsync(new GrpcChannelOptions());

        Assert.Equal("gzip", encoding);
        Assert.NotNull(topics);
    }

    [Fact]
    public async Task A_client_accepting_only_identity_gets_uncompressed_responses()
    {
        var (encoding, topics) = await ListTopicsAsync(new GrpcChannelOptions { CompressionProviders = [] });

        Assert.Null(encoding);
        Assert.NotNull(topics);
    }

    private async Task<(string? Encoding, ListTopicsResponse Topics)> ListTopicsAsync(GrpcChannelOptions options)
    {
        var seen = new ResponseEncodings(new SocketsHttpHandler());
        options.HttpHandler = seen;
        using var channel = GrpcChannel.ForAddress(broker.Process.Address, options);
        var topics = await new Admin.AdminClient(channel).ListTopicsAsync(new ListTopicsRequest());
        return (seen.Last, topics);
    }

    /// <summary>Remembers the grpc-encoding header of the last response.</summary>
    private sealed class ResponseEncodings(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public string? Last { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            Last = response.Headers.TryGetValues("grpc-encoding", out var values) ? values.Single() : null;
            return response;
        }
    }
}
