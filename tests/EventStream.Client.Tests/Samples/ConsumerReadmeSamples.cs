using System.Collections.Concurrent;
using EventStream.Client.Tests.Integration;
using EventStream.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Tests.Samples;

/// <summary>
/// The README's consumer samples, compiled: the text between each <c>#region Snippet:...</c> and its
/// <c>#endregion</c> is pasted into README.md as is. The loops run against the real broker.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ConsumerReadmeSamples(BrokerFixture broker)
{
    private static readonly ConcurrentQueue<ConsumedEvent> Processed = new();

    [Fact]
    public async Task Consume_samples_run_against_the_broker()
    {
        var topic = await broker.CreateTopicAsync("orders");
        await using var producer = broker.CreateProducer();
        var sent = await Keyed.ProduceAsync(producer, topic, ["customer-42"], perKey: 3);

        var options = broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.StartPosition = StartPosition.Earliest);
        await RunUntilProcessedAsync(options, ConsumeAsync, sent);
        options = broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.StartPosition = StartPosition.Earliest);
        await RunUntilProcessedAsync(options, ConsumeWithManualCommitsAsync, sent);
    }

    [Fact]
    public async Task Hosted_service_sample_registers_the_service()
    {
        var builder = Host.CreateApplicationBuilder();
        RegisterConsumer(builder);
        using var host = builder.Build();
        Assert.IsType<OrderProjection>(Assert.Single(host.Services.GetServices<IHostedService>(), s => s is OrderProjection));
        await Task.CompletedTask;
    }

    /// <summary>Compiled, not run: it needs a broker on the default address.</summary>
    internal static async Task CreateConsumerAsync(CancellationToken cancellationToken)
    {
        #region Snippet:CreateConsumer
        await using var consumer = new EventStreamConsumer(new EventStreamConsumerOptions
        {
            Address = "http://127.0.0.1:7400",
            Group = "billing",
            Topics = { "orders" },
            // Where a new group starts; a group that exists resumes from its commits.
            StartPosition = StartPosition.Earliest,
        });
        #endregion
        await ConsumeAsync(consumer, cancellationToken);
    }

    internal static async Task ConsumeAsync(EventStreamConsumer consumer, CancellationToken cancellationToken)
    {
        #region Snippet:Consume
        // Each shard's events come in the order stored, so per key. Asking for the next event marks this
        // one processed; processed events are committed every 5 s (sooner after 5,000), when shards move
        // away, and on dispose.
        await foreach (ConsumedEvent e in consumer.ConsumeAsync(cancellationToken))
        {
            Console.WriteLine($"{e.Topic}/{e.Shard} #{e.EventId} key {e.GetKeyString()}: {e.GetPayloadString()}");
            await ProcessAsync(e, cancellationToken);
        }
        #endregion
    }

    internal static async Task ConsumeWithManualCommitsAsync(EventStreamConsumerOptions options, CancellationToken cancellationToken)
    {
        #region Snippet:ConsumeWithManualCommits
        options.AutoCommitInterval = null; // commit only when told to
        await using var consumer = new EventStreamConsumer(options);
        await foreach (ConsumedEvent e in consumer.ConsumeAsync(cancellationToken))
        {
            await ProcessAsync(e, cancellationToken);
            try
            {
                // Commits e's shard up to and including e. CommitAsync(cancellationToken) instead commits
                // every event the loop has moved past, on all shards: cheaper when called now and then.
                await consumer.CommitAsync(e, cancellationToken);
            }
            catch (EventStreamException ex) when (ex.Reason == EventStreamErrorReason.LeaseLost)
            {
                // The shard moved to another member, which receives the event again.
            }
        }
        #endregion
    }

    internal static void RegisterConsumer(HostApplicationBuilder builder)
    {
        #region Snippet:RegisterConsumer
        // Options bind from the "EventStream:Consumer" configuration section, then this code.
        builder.Services.AddEventStreamConsumer<OrderProjection>(options =>
        {
            options.Group = "order-projection";
            options.Topics.Add("orders");
        });
        #endregion
    }

    #region Snippet:ConsumerService
    /// <summary>Consumes while the host runs; commits and leaves the group when it stops.</summary>
    public sealed class OrderProjection(ILogger<OrderProjection> logger) : EventStreamConsumerService
    {
        protected override Task ProcessAsync(ConsumedEvent e, CancellationToken cancellationToken)
        {
            logger.LogInformation("Order event {EventId} on shard {Shard}: {Bytes} bytes", e.EventId, e.Shard, e.Payload.Length);
            return Task.CompletedTask;
        }

        protected override Task OnShardsRevokedAsync(IReadOnlyList<int> shards, CancellationToken cancellationToken)
        {
            logger.LogInformation("Handing over shards {Shards}", shards);
            return Task.CompletedTask;
        }
    }
    #endregion

    private static Task ProcessAsync(ConsumedEvent e, CancellationToken cancellationToken)
    {
        Processed.Enqueue(e);
        return Task.CompletedTask;
    }

    private static async Task RunUntilProcessedAsync(EventStreamConsumerOptions options, Func<EventStreamConsumerOptions, CancellationToken, Task> sample, List<DeliveryResult> sent)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = sample(options, stop.Token);
        await Wait.UntilAsync(() => sent.All(d => Processed.Any(e => e.EventId == d.EventId)) || running.IsCompleted, "the sample processed every event");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    private static Task RunUntilProcessedAsync(EventStreamConsumerOptions options, Func<EventStreamConsumer, CancellationToken, Task> sample, List<DeliveryResult> sent) =>
        RunUntilProcessedAsync(options, async (o, ct) =>
        {
            await using var consumer = new EventStreamConsumer(o);
            await sample(consumer, ct);
        }, sent);
}
