using System.Collections.Concurrent;
using EventStream.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Tests.Integration;

/// <summary><see cref="EventStreamConsumerService"/> in a real host against the real broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class HostedServiceTests(BrokerFixture broker)
{
    [Fact]
    public async Task Hosted_consumer_service_processes_events_with_its_dependencies_and_commits_on_stop()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        await using var producer = broker.CreateProducer();
        var sent = await Keyed.ProduceAsync(producer, topic, ["a", "b"], perKey: 5);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<Processed>();
        builder.Services.AddEventStreamConsumer<RecordingService>(o =>
        {
            broker.ConsumerOptions(group, topic).CopyTimingsTo(o);
            o.StartPosition = StartPosition.Earliest;
        });
        using (var host = builder.Build())
        {
            var processed = host.Services.GetRequiredService<Processed>();
            await host.StartAsync(TestTimeout.Token());
            await Wait.UntilAsync(() => processed.Events.Count == sent.Count, "the service processed every event");
            await host.StopAsync(TestTimeout.Token());

            Assert.Equal(sent.Select(d => d.EventId).Order(), processed.Events.Select(e => e.EventId).Order());
            Keyed.AssertOrderedPerKey(processed.Events);
            Assert.Equal(Enumerable.Range(0, 32), processed.Assigned.Order());
        }

        // Stopping committed everything: the group's next member gets only what is new.
        var next = await producer.ProduceAsync(topic, "a", "a:5");
        await using var after = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => !after.Received.IsEmpty, "the new event arrived");
        await Task.Delay(300);
        Assert.Equal([next.EventId], after.Received.Select(e => e.EventId));
    }

    public sealed class Processed
    {
        public ConcurrentQueue<ConsumedEvent> Events { get; } = new();

        public ConcurrentQueue<int> Assigned { get; } = new();
    }

    public sealed class RecordingService(Processed processed) : EventStreamConsumerService
    {
        protected override Task ProcessAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken)
        {
            processed.Events.Enqueue(consumedEvent);
            return Task.CompletedTask;
        }

        protected override Task OnShardsAssignedAsync(IReadOnlyList<int> shards, CancellationToken cancellationToken)
        {
            foreach (var shard in shards)
            {
                processed.Assigned.Enqueue(shard);
            }
            return Task.CompletedTask;
        }
    }
}

internal static class ConsumerOptionsCopy
{
    /// <summary>Copies address, group, topics and timings (options registered with DI are created by the container).</summary>
    public static void CopyTimingsTo(this EventStreamConsumerOptions from, EventStreamConsumerOptions to)
    {
        to.Address = from.Address;
        to.Group = from.Group;
        to.Topics = [.. from.Topics];
        to.SessionTimeout = from.SessionTimeout;
        to.HeartbeatInterval = from.HeartbeatInterval;
        to.AutoCommitInterval = from.AutoCommitInterval;
        to.ReconnectBackoff = from.ReconnectBackoff;
        to.MaxReconnectBackoff = from.MaxReconnectBackoff;
    }
}
