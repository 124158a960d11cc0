using System.Collections.Concurrent;
using System.IO.Compression;
using EventStream.Client.Tests.Fakes;
using Grpc.Net.Client;
using Grpc.Net.Compression;

namespace EventStream.Client.Tests.Transport;

/// <summary>The producer's transport settings, against the in-process fake broker.</summary>
public sealed class ProducerTransportTests
{
    private const string ProduceStream = "/eventstream.v1.Producer/ProduceStream";

    [Fact]
    public async Task By_default_the_producer_does_not_ask_for_compressed_answers()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using (var producer = broker.CreateProducer())
        {
            await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        var encoding = Assert.Single(broker.Producer.AcceptEncodings);
        Assert.DoesNotContain("gzip", encoding, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Channel_options_with_compression_providers_ask_for_compressed_answers()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using (var producer = broker.CreateProducer(o => o.ChannelOptions = new GrpcChannelOptions
        {
            CompressionProviders = [new GzipCompressionProvider(CompressionLevel.Fastest)],
        }))
        {
            await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Contains("gzip", Assert.Single(broker.Producer.AcceptEncodings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_channel_of_your_own_carries_the_calls_and_outlives_the_producer()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        using var channel = GrpcChannel.ForAddress(broker.Address);

        await using (var first = broker.CreateProducer(o => { o.Channel = channel; o.Address = "ignored"; }))
        {
            await first.ProduceAsync("orders", "k", "one", cancellationToken: TestTimeout.Token());
        }
        await using (var second = broker.CreateProducer(o => { o.Channel = channel; o.Address = "ignored"; }))
        {
            await second.ProduceAsync("orders", "k", "two", cancellationToken: TestTimeout.Token());
        }

        Assert.Equal(["one", "two"], broker.Producer.Stored("orders").Select(e => e.Data.Data.ToStringUtf8()));
    }

    [Fact]
    public async Task The_http_handler_carries_the_calls_and_stays_with_its_owner()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        using var handler = new CountingHandler();

        await using (var producer = broker.CreateProducer(o => o.HttpHandler = handler))
        {
            await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Equal(1, handler.Requests);
        Assert.False(handler.IsDisposed);
    }

    [Fact]
    public async Task Interceptors_see_every_call_the_first_in_the_list_first()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var log = new ConcurrentQueue<string>();
        var first = new RecordingInterceptor("first", log);

        await using (var producer = broker.CreateProducer(o => o.Interceptors = [first, new RecordingInterceptor("second", log)]))
        {
            await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Equal([$"first {ProduceStream}", $"second {ProduceStream}"], first.Calls);
    }
}
