using System.Collections.Concurrent;
using System.IO.Compression;
using EventStream.Client.Tests.Fakes;
using Grpc.Net.Client;
using Grpc.Net.Compression;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Tests;

public class EventStreamServiceCollectionExtensionsTests
{
    [Fact]
    public async Task Producer_resolves_as_a_singleton_and_is_flushed_and_disposed_with_the_container()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var services = new ServiceCollection()
            .AddLogging()
            .AddEventStreamProducer(o =>
            {
                o.Address = broker.Address;
                o.Linger = TimeSpan.FromSeconds(20);
            });
        var provider = services.BuildServiceProvider();

        var producer = provider.GetRequiredService<EventStreamProducer>();
        Assert.Same(producer, provider.GetRequiredService<EventStreamProducer>());
        var produced = producer.ProduceAsync("orders", "k", "v");
        await provider.DisposeAsync().AsTask().WaitAsync(TestTimeout.Token());

        Assert.True(produced.IsCompletedSuccessfully);
        Assert.Single(broker.Producer.Stored("orders"));
        Assert.Throws<ObjectDisposedException>(() => { _ = producer.ProduceAsync("orders", "k", "v"); });
    }

    [Fact]
    public void Options_bind_from_the_EventStream_Producer_section_and_code_wins()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStream:Producer:Address"] = "http://broker:7400",
            ["EventStream:Producer:Linger"] = "00:00:00.020",
            ["EventStream:Producer:MaxInFlight"] = "3",
            ["EventStream:Producer:ProducerId"] = "from-config",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEventStreamProducer(o => o.MaxInFlight = 2);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value;

        Assert.Equal("http://broker:7400", options.Address);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.Linger);
        Assert.Equal(2, options.MaxInFlight);
        Assert.Equal("from-config", options.ProducerId);
    }

    [Fact]
    public void Without_configuration_the_defaults_apply()
    {
        using var provider = new ServiceCollection().AddEventStreamProducer().BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value;
        Assert.Equal("http://127.0.0.1:7400", options.Address);
    }

    [Fact]
    public async Task Invalid_options_fail_when_the_producer_is_resolved()
    {
        await using var provider = new ServiceCollection().AddEventStreamProducer(o => o.MaxBatchEvents = 0).BuildServiceProvider();
        var e = Assert.Throws<ArgumentException>(() => { _ = provider.GetRequiredService<EventStreamProducer>(); });
        Assert.Equal("MaxBatchEvents", e.ParamName);
    }

    private const string ProduceStream = "/eventstream.v1.Producer/ProduceStream";

    [Fact]
    public async Task An_interceptor_added_to_the_producers_gRPC_client_sees_the_producers_calls()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var interceptor = new RecordingInterceptor();
        await using var provider = new ServiceCollection()
            .AddEventStreamProducer(o => o.Address = broker.Address, client => client.AddInterceptor(() => interceptor))
            .BuildServiceProvider();

        await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());

        Assert.Equal(1, interceptor.CountOf(ProduceStream));
        Assert.Single(broker.Producer.Stored("orders"));
    }

    [Fact]
    public async Task The_producers_gRPC_client_can_be_configured_by_its_name()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var interceptor = new RecordingInterceptor();
        var services = new ServiceCollection().AddEventStreamProducer(o => o.Address = broker.Address);
        services.AddHttpClient(EventStreamServiceCollectionExtensions.ProducerClientName).AddInterceptor(() => interceptor);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());

        Assert.Equal(1, interceptor.CountOf(ProduceStream));
    }

    [Fact]
    public async Task The_producers_gRPC_client_sends_through_the_configured_handler_without_asking_for_compression()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var handler = new CountingHandler();
        await using (var provider = new ServiceCollection()
            .AddEventStreamProducer(o => o.Address = broker.Address, client => client.ConfigurePrimaryHttpMessageHandler(() => handler))
            .BuildServiceProvider())
        {
            await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Equal(1, handler.Requests);
        Assert.DoesNotContain("gzip", Assert.Single(broker.Producer.AcceptEncodings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Channel_settings_configured_on_the_client_win_over_the_SDKs_defaults()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using (var provider = new ServiceCollection()
            .AddEventStreamProducer(o => o.Address = broker.Address,
                client => client.ConfigureChannel(o => o.CompressionProviders = [new GzipCompressionProvider(CompressionLevel.Fastest)]))
            .BuildServiceProvider())
        {
            await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Contains("gzip", Assert.Single(broker.Producer.AcceptEncodings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_options_http_handler_and_interceptors_apply_to_the_gRPC_client_the_options_interceptors_first()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        using var handler = new CountingHandler();
        var log = new ConcurrentQueue<string>();
        var client = new RecordingInterceptor("client", log);
        await using (var provider = new ServiceCollection()
            .AddEventStreamProducer(o =>
            {
                o.Address = broker.Address;
                o.HttpHandler = handler;
                o.Interceptors.Add(new RecordingInterceptor("options", log));
            }, builder => builder.AddInterceptor(() => client))
            .BuildServiceProvider())
        {
            await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Equal(1, handler.Requests);
        Assert.Equal([$"options {ProduceStream}", $"client {ProduceStream}"], client.Calls);
    }

    [Fact]
    public async Task A_channel_in_the_options_replaces_the_gRPC_client_and_stays_open()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        using var channel = GrpcChannel.ForAddress(broker.Address);
        var interceptor = new RecordingInterceptor();
        await using (var provider = new ServiceCollection()
            .AddEventStreamProducer(o => o.Channel = channel, client => client.AddInterceptor(() => interceptor))
            .BuildServiceProvider())
        {
            await provider.GetRequiredService<EventStreamProducer>().ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());
        }

        Assert.Empty(interceptor.Calls);
        Assert.Single(broker.Producer.Stored("orders"));
        await new EventStream.Protocol.V1.Producer.ProducerClient(channel).ProduceAsync(
            new EventStream.Protocol.V1.ProduceRequest { Topic = "orders", Events = { new EventStream.Protocol.V1.EventData { Text = "again" } } }, cancellationToken: TestTimeout.Token());
        Assert.Equal(2, broker.Producer.Stored("orders").Count);
    }
}
