using EventStream.Client.Tests.Fakes;
using Grpc.Core;

namespace EventStream.Client.Tests;

/// <summary>How events become requests: linger, limits, in-flight bound, flush and cancellation.</summary>
public class EventStreamProducerBatchingTests
{
    [Fact]
    public async Task Lingering_sends_many_events_in_few_requests()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromMilliseconds(500));

        var produced = Enumerable.Range(0, 200).Select(i => producer.ProduceAsync("orders", $"key-{i % 7}", $"event {i}")).ToList();
        await Task.WhenAll(produced).WaitAsync(TestTimeout.Token());

        Assert.Equal(200, broker.Producer.Stored("orders").Count);
        Assert.InRange(Stored(broker).Count, 1, 3);
    }

    [Fact]
    public async Task Batches_are_sealed_at_MaxBatchEvents_and_flush_sends_the_rest()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o =>
        {
            o.Linger = TimeSpan.FromSeconds(20);
            o.MaxBatchEvents = 10;
        });

        var produced = Enumerable.Range(0, 25).Select(i => producer.ProduceAsync("orders", null, $"event {i}")).ToList();
        await producer.FlushAsync(TestTimeout.Token());

        Assert.All(produced, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal([(0L, 10), (10L, 10), (20L, 5)], Stored(broker));
    }

    [Fact]
    public async Task Batches_are_sealed_at_MaxBatchBytes()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o =>
        {
            o.Linger = TimeSpan.FromSeconds(20);
            o.MaxBatchBytes = 10_000;
        });

        var produced = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync("orders", null, new byte[3000])).ToList();
        await producer.FlushAsync(TestTimeout.Token());

        Assert.All(produced, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal([(0L, 3), (3L, 3), (6L, 3), (9L, 1)], Stored(broker));
    }

    [Fact]
    public async Task No_more_than_MaxInFlight_requests_per_topic_are_outstanding()
    {
        await using var broker = await FakeBroker.StartAsync("orders", "payments");
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Times = int.MaxValue, Delay = TimeSpan.FromMilliseconds(100) });
        await using var producer = broker.CreateProducer(o =>
        {
            o.MaxBatchEvents = 1;
            o.MaxInFlight = 3;
        });

        var produced = Enumerable.Range(0, 12).Select(i => producer.ProduceAsync("orders", "k", $"event {i}")).ToList();
        await Task.WhenAll(produced).WaitAsync(TestTimeout.Token());

        Assert.InRange(broker.Producer.MaxConcurrentCalls, 2, 3);
        Assert.Equal(12, Stored(broker).Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"event {i}"), broker.Producer.Stored("orders").Select(e => e.Data.Data.ToStringUtf8()));
    }

    [Fact]
    public async Task Events_keep_coalescing_while_the_requests_are_in_flight()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var gate = new TaskCompletionSource();
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Gate = gate.Task });
        await using var producer = broker.CreateProducer(o =>
        {
            o.Linger = TimeSpan.Zero;
            o.MaxInFlight = 1;
        });

        var first = producer.ProduceAsync("orders", null, "first");
        await WaitUntilAsync(() => broker.Producer.StartedCalls >= 1);
        var rest = Enumerable.Range(0, 50).Select(i => producer.ProduceAsync("orders", null, $"event {i}")).ToList();
        gate.SetResult();
        await Task.WhenAll(rest.Append(first)).WaitAsync(TestTimeout.Token());

        Assert.Equal([1, 50], broker.Producer.Calls.Select(c => c.Count));
    }

    [Fact]
    public async Task FlushAsync_waits_for_every_event_produced_before_it()
    {
        await using var broker = await FakeBroker.StartAsync("orders", "payments");
        await using var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromSeconds(20));

        var produced = new[]
        {
            producer.ProduceAsync("orders", null, "a"),
            producer.ProduceAsync("payments", null, "b"),
            producer.ProduceAsync("orders", null, "c"),
        };
        Assert.All(produced, task => Assert.False(task.IsCompleted));
        await producer.FlushAsync(TestTimeout.Token());

        Assert.All(produced, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal(2, broker.Producer.Stored("orders").Count);
        Assert.Single(broker.Producer.Stored("payments"));
    }

    [Fact]
    public async Task FlushAsync_does_not_throw_for_failed_events()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromSeconds(20));

        var produced = producer.ProduceAsync("missing", null, "a");
        await producer.FlushAsync(TestTimeout.Token());

        Assert.True(produced.IsFaulted);
    }

    [Fact]
    public async Task Cancelling_before_the_batch_is_sent_withdraws_the_event()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromSeconds(20));
        using var cancel = new CancellationTokenSource();

        var kept = producer.ProduceAsync("orders", null, "kept");
        var withdrawn = producer.ProduceAsync("orders", null, "withdrawn", cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        await producer.FlushAsync(TestTimeout.Token());
        await kept;

        Assert.Equal(["kept"], broker.Producer.Stored("orders").Select(e => e.Data.Data.ToStringUtf8()));
    }

    [Fact]
    public async Task Cancelling_after_the_batch_was_sent_only_stops_waiting()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var gate = new TaskCompletionSource();
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Gate = gate.Task });
        await using var producer = broker.CreateProducer();
        using var cancel = new CancellationTokenSource();

        var produced = producer.ProduceAsync("orders", null, "sent", cancellationToken: cancel.Token);
        await WaitUntilAsync(() => broker.Producer.StartedCalls >= 1);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => produced);
        gate.SetResult();
        await producer.FlushAsync(TestTimeout.Token());

        Assert.Single(broker.Producer.Stored("orders"));
    }

    [Fact]
    public async Task Already_cancelled_token_sends_nothing()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer.ProduceAsync("orders", null, "x", cancellationToken: new CancellationToken(true)));
        await producer.FlushAsync(TestTimeout.Token());

        Assert.Empty(broker.Producer.Calls);
    }

    /// <summary>The batches the broker stored, as (first sequence, events); requests that arrived
    /// before their predecessors were answered ABORTED and sent again, so they are left out.</summary>
    private static List<(long FirstSequence, int Count)> Stored(FakeBroker broker) =>
        broker.Producer.Calls.Where(c => c.Outcome == StatusCode.OK).Select(c => (c.FirstSequence, c.Count)).Order().ToList();

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var token = TestTimeout.Token();
        while (!condition())
        {
            await Task.Delay(10, token);
        }
    }
}
