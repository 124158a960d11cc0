using EventStream.Client.Tests.Fakes;

namespace EventStream.Client.Tests;

/// <summary>Disposal: flushing, bounded by the delivery timeout, and refusing work afterwards.</summary>
public class EventStreamProducerLifecycleTests
{
    [Fact]
    public async Task DisposeAsync_flushes_waiting_events()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromSeconds(20));

        var produced = Enumerable.Range(0, 5).Select(i => producer.ProduceAsync("orders", null, $"event {i}")).ToList();
        await producer.DisposeAsync().AsTask().WaitAsync(TestTimeout.Token());

        Assert.All(produced, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal(5, broker.Producer.Stored("orders").Count);
    }

    [Fact]
    public async Task Disposed_producer_refuses_new_events_and_disposing_twice_is_harmless()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var producer = broker.CreateProducer();
        await producer.ProduceAsync("orders", null, "before", cancellationToken: TestTimeout.Token());

        await producer.DisposeAsync();
        await producer.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => { _ = producer.ProduceAsync("orders", null, "after"); });
        Assert.Throws<ObjectDisposedException>(() => { _ = producer.ProduceAsync("new-topic", null, "after"); });
        Assert.Throws<ObjectDisposedException>(() => { _ = producer.FlushAsync(); });
    }

    [Fact]
    public async Task DisposeAsync_is_bounded_when_the_broker_does_not_answer()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Times = int.MaxValue, Delay = TimeSpan.FromSeconds(30) });
        var producer = broker.CreateProducer(o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.DeliveryTimeout = TimeSpan.FromSeconds(1);
        });
        var produced = producer.ProduceAsync("orders", null, "stuck");

        await producer.DisposeAsync().AsTask().WaitAsync(TestTimeout.Token());

        // The event's delivery timeout and the flush's end at about the same time; either failure is right.
        var e = await Assert.ThrowsAsync<EventStreamException>(() => produced);
        Assert.Contains(e.Reason, new[] { EventStreamErrorReason.Timeout, EventStreamErrorReason.ClientClosed });
    }
}
