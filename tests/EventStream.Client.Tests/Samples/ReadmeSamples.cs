using EventStream.Client.Tests.Fakes;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventStream.Client.Tests.Samples;

/// <summary>
/// The README's samples, compiled: the text between each <c>#region Snippet:...</c> and its
/// <c>#endregion</c> is pasted into README.md as is.
/// </summary>
public class ReadmeSamples
{
    [Fact]
    public async Task Produce_sample_runs_against_a_broker()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = broker.Address });

        await ProduceAsync(producer);

        Assert.Equal(4, broker.Producer.Stored("orders").Count);
    }

    [Fact]
    public async Task Dependency_injection_sample_resolves_the_producer()
    {
        var builder = Host.CreateApplicationBuilder();
        RegisterProducer(builder);
        var host = builder.Build();
        try
        {
            Assert.NotNull(host.Services.GetRequiredService<EventStreamProducer>());
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    /// <summary>Compiled, not run: it needs a broker on the default address.</summary>
    internal static async Task CreateProducerAsync()
    {
        #region Snippet:CreateProducer
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions
        {
            Address = "http://127.0.0.1:7400",
        });
        #endregion
        await ProduceAsync(producer);
    }

    internal static async Task ProduceAsync(EventStreamProducer producer)
    {
        #region Snippet:Produce
        // Events with the same key go to the same shard and are stored in the order produced.
        DeliveryResult delivery = await producer.ProduceAsync("orders", key: "customer-42", payload: """{"total": 12.5}""");
        Console.WriteLine($"shard {delivery.Shard}, event {delivery.EventId}, stored at {delivery.IngestTime:O}");

        // Several events in one call: sent together, acknowledged in order.
        IReadOnlyList<DeliveryResult> deliveries = await producer.ProduceBatchAsync("orders",
        [
            new ProducerEvent("""{"item": "tea"}""", key: "customer-7") { ContentType = "application/json" },
            new ProducerEvent("""{"item": "milk"}""", key: "customer-7")
            {
                Headers = new Dictionary<string, string> { ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
            },
        ]);

        // Send what is still waiting and wait for it, e.g. before a checkpoint.
        _ = producer.ProduceAsync("orders", key: null, payload: "fire and forget");
        await producer.FlushAsync();

        try
        {
            await producer.ProduceAsync("no-such-topic", key: null, payload: "lost");
        }
        catch (EventStreamException e) when (e.Reason == EventStreamErrorReason.TopicNotFound)
        {
            Console.WriteLine($"create the topic first: {e.Message}");
        }
        #endregion
        Assert.Equal(2, deliveries.Count);
    }

    [Fact]
    public async Task Grpc_client_sample_resolves_the_producer()
    {
        var builder = Host.CreateApplicationBuilder();
        RegisterProducerWithGrpcSettings(builder);
        var host = builder.Build();
        try
        {
            Assert.NotNull(host.Services.GetRequiredService<EventStreamProducer>());
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    /// <summary>Compiled, not run: it needs a broker at that address.</summary>
    internal static async Task CreateProducerOnOwnChannelAsync(HttpMessageHandler handler)
    {
        #region Snippet:OwnChannel
        // Your own channel (TLS, proxy, retry settings...); the producer does not dispose it.
        using var channel = GrpcChannel.ForAddress("https://broker.internal:7400", new GrpcChannelOptions { HttpHandler = handler });
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Channel = channel });
        #endregion
        await producer.FlushAsync();
    }

    internal static void RegisterProducerWithGrpcSettings(HostApplicationBuilder builder)
    {
        #region Snippet:GrpcClientFactory
        // The gRPC client comes from Grpc.Net.ClientFactory: configure it as any other.
        builder.Services.AddEventStreamProducer(
            options => options.Address = "http://127.0.0.1:7400",
            client => client.ConfigureChannel(channel => channel.MaxReceiveMessageSize = 8 * 1024 * 1024));
        #endregion
    }

    internal static void RegisterProducer(HostApplicationBuilder builder)
    {
        #region Snippet:DependencyInjection
        // Options bind from the "EventStream:Producer" configuration section, then this code.
        builder.Services.AddEventStreamProducer(options => options.Linger = TimeSpan.FromMilliseconds(10));
        #endregion
    }
}
