using EventStream.Client.Tests.Fakes;
using Grpc.Core;

namespace EventStream.Client.Tests;

/// <summary>Failures, retries and idempotence against the fake broker's fault injection.</summary>
public class EventStreamProducerRetryTests
{
    [Fact]
    public async Task Unavailable_is_retried_until_the_event_is_stored()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.Unavailable) { Times = 2 });
        await using var producer = broker.CreateProducer();

        var result = await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());

        Assert.False(result.IsDuplicate);
        Assert.Single(broker.Producer.Stored("orders"));
        Assert.Equal([StatusCode.Unavailable, StatusCode.Unavailable, StatusCode.OK], broker.Producer.Calls.Select(c => c.Outcome));
        Assert.All(broker.Producer.Calls, c => Assert.Equal((producer.ProducerId, 0L), (c.ProducerId, c.FirstSequence)));
    }

    [Fact]
    public async Task Batch_whose_answer_was_lost_is_stored_once_and_reported_as_duplicate()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.StoreThenFail, StatusCode.Unavailable));
        await using var producer = broker.CreateProducer();

        var results = await producer.ProduceBatchAsync("orders", [new ProducerEvent("a"), new ProducerEvent("b")], TestTimeout.Token());

        var stored = broker.Producer.Stored("orders");
        Assert.Equal(["a", "b"], stored.Select(e => e.Data.Data.ToStringUtf8()));
        Assert.Equal(stored.Select(e => e.EventId), results.Select(r => r.EventId));
        Assert.All(results, r => Assert.True(r.IsDuplicate));
        Assert.Equal([StatusCode.Unavailable, StatusCode.OK], broker.Producer.Calls.Select(c => c.Outcome));
    }

    [Fact]
    public async Task Failed_batch_is_resent_before_later_ones_so_order_holds_and_nothing_is_stored_twice()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        // Batch 10..14 fails late, after later batches reached the broker (they are answered ABORTED);
        // batch 40..44 is stored but its answer is lost.
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.Unavailable) { Delay = TimeSpan.FromMilliseconds(200), When = r => r.FirstSequence == 10 });
        broker.Producer.AddFault(new FaultRule(FaultKind.StoreThenFail, StatusCode.Unavailable) { When = r => r.FirstSequence == 40 });
        await using var producer = broker.CreateProducer(o => o.MaxBatchEvents = 5);
        var events = Enumerable.Range(0, 100).Select(i => new ProducerEvent($"event {i}", key: "same-key")).ToList();

        var results = await producer.ProduceBatchAsync("orders", events, TestTimeout.Token());

        var stored = broker.Producer.Stored("orders");
        Assert.Equal(events.Select((_, i) => $"event {i}"), stored.Select(e => e.Data.Data.ToStringUtf8()));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), stored.Select(e => e.Sequence));
        Assert.Equal(stored.Select(e => e.EventId), results.Select(r => r.EventId));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i is >= 40 and < 45), results.Select(r => r.IsDuplicate));
        Assert.Contains(broker.Producer.Calls, c => c.Outcome == StatusCode.Aborted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Random_faults_neither_lose_nor_duplicate_nor_reorder_events(bool acceptAnySequenceFromNewProducers)
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AcceptAnySequenceFromNewProducers = acceptAnySequenceFromNewProducers;
        var random = new Random(20240506);
        bool Chance(double p) => random.NextDouble() < p; // called under the fake broker's lock
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.Unavailable) { Times = int.MaxValue, When = _ => Chance(0.1) });
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.DeadlineExceeded) { Times = int.MaxValue, When = _ => Chance(0.05) });
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Times = int.MaxValue, Delay = TimeSpan.FromMilliseconds(15), When = _ => Chance(0.3) });
        broker.Producer.AddFault(new FaultRule(FaultKind.StoreThenFail, StatusCode.Unavailable) { Times = int.MaxValue, When = _ => Chance(0.15) });
        await using var producer = broker.CreateProducer(o =>
        {
            o.MaxBatchEvents = 7;
            o.Linger = TimeSpan.FromMilliseconds(1);
            o.MaxRetries = 1000;
        });

        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            var produced = new List<Task<DeliveryResult>>();
            for (var i = 0; i < 150; i++)
            {
                produced.Add(producer.ProduceAsync("orders", $"key-{p}", $"{p}:{i}"));
                if (i % 10 == 0)
                {
                    await Task.Yield();
                }
            }
            return await Task.WhenAll(produced);
        })).ToList();
        var results = (await Task.WhenAll(producers).WaitAsync(TestTimeout.Token())).SelectMany(r => r).ToList();

        var stored = broker.Producer.Stored("orders");
        Assert.Equal(600, stored.Count);
        Assert.Equal(stored.Select(e => e.EventId).Order(), results.Select(r => r.EventId).Order());
        foreach (var key in stored.GroupBy(e => e.Data.KeyBytes.ToStringUtf8()))
        {
            Assert.Equal(Enumerable.Range(0, 150), key.Select(e => int.Parse(e.Data.Data.ToStringUtf8().Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)));
        }
        Assert.Contains(results, r => r.IsDuplicate);
    }

    [Fact]
    public async Task Missing_topic_fails_with_TopicNotFound_at_once()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var producer = broker.CreateProducer();

        var e = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync("missing", "k", "v", cancellationToken: TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.TopicNotFound, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("missing", e.Message);
        Assert.Single(broker.Producer.Calls);
    }

    [Fact]
    public async Task Rejected_batch_fails_without_retry_and_later_events_still_go_through()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.InvalidArgument) { When = r => r.FirstSequence == 1 });
        await using var producer = broker.CreateProducer();

        await producer.ProduceAsync("orders", "k", "first", cancellationToken: TestTimeout.Token());
        var e = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync("orders", "k", "rejected", cancellationToken: TestTimeout.Token()));
        var later = await producer.ProduceAsync("orders", "k", "later", cancellationToken: TestTimeout.Token());
        var last = await producer.ProduceAsync("orders", "k", "last", cancellationToken: TestTimeout.Token());

        Assert.Equal(EventStreamErrorReason.InvalidArgument, e.Reason);
        Assert.False(e.IsTransient);
        Assert.False(later.IsDuplicate);
        Assert.Equal(["first", "later", "last"], broker.Producer.Stored("orders").Select(s => s.Data.Data.ToStringUtf8()));
        // The broker waits for sequence 1, which will never come: the producer restarted its sequences under a new id.
        Assert.Equal(
            [(producer.ProducerId, 0L), (producer.ProducerId + ".1", 0L), (producer.ProducerId + ".1", 1L)],
            broker.Producer.Stored("orders").Select(s => (s.ProducerId, s.Sequence)));
        Assert.Equal(1, broker.Producer.Calls.Count(c => c.Outcome == StatusCode.InvalidArgument));
    }

    [Fact]
    public async Task A_broker_that_forgot_the_producer_takes_its_next_batch()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer();
        await producer.ProduceAsync("orders", "k", "first", cancellationToken: TestTimeout.Token());

        broker.Producer.ForgetProducers();
        await producer.ProduceAsync("orders", "k", "second", cancellationToken: TestTimeout.Token());
        await producer.ProduceAsync("orders", "k", "third", cancellationToken: TestTimeout.Token());

        Assert.Equal(["first", "second", "third"], broker.Producer.Stored("orders").Select(s => s.Data.Data.ToStringUtf8()));
        Assert.Equal([0L, 1L, 2L], broker.Producer.Stored("orders").Select(s => s.Sequence));
        Assert.All(broker.Producer.Calls, c => Assert.Equal(StatusCode.OK, c.Outcome));
    }

    [Fact]
    public async Task Sequences_restart_under_a_new_producer_id_when_the_broker_expects_them_from_0()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AcceptAnySequenceFromNewProducers = false;
        await using var producer = broker.CreateProducer();
        await producer.ProduceAsync("orders", "k", "first", cancellationToken: TestTimeout.Token());

        broker.Producer.ForgetProducers();
        await producer.ProduceAsync("orders", "k", "second", cancellationToken: TestTimeout.Token());
        await producer.ProduceAsync("orders", "k", "third", cancellationToken: TestTimeout.Token());

        Assert.Equal(["first", "second", "third"], broker.Producer.Stored("orders").Select(s => s.Data.Data.ToStringUtf8()));
        Assert.Equal(
            [(producer.ProducerId, 0L), (producer.ProducerId + ".1", 0L), (producer.ProducerId + ".1", 1L)],
            broker.Producer.Stored("orders").Select(s => (s.ProducerId, s.Sequence)));
    }

    [Fact]
    public async Task Retry_of_a_batch_the_broker_no_longer_remembers_fails_with_SequenceConflict()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.RememberedBatches = 0;
        broker.Producer.AddFault(new FaultRule(FaultKind.StoreThenFail, StatusCode.Unavailable));
        await using var producer = broker.CreateProducer();

        var e = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.SequenceConflict, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [Fact]
    public async Task Events_fail_with_the_last_error_after_MaxRetries()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.Unavailable) { Times = int.MaxValue });
        await using var producer = broker.CreateProducer(o => o.MaxRetries = 2);

        var e = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.Unavailable, e.Reason);
        Assert.True(e.IsTransient);
        Assert.Equal(3, broker.Producer.Calls.Count);
    }

    [Fact]
    public async Task Events_fail_with_Timeout_after_DeliveryTimeout()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Delay) { Times = int.MaxValue, Delay = TimeSpan.FromSeconds(30) });
        await using var producer = broker.CreateProducer(o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.DeliveryTimeout = TimeSpan.FromSeconds(1);
            o.MaxRetryBackoff = TimeSpan.FromMilliseconds(50);
            o.MaxRetries = 1000;
        });

        var e = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.Timeout, e.Reason);
        Assert.True(e.IsTransient);
        Assert.Equal(StatusCode.DeadlineExceeded, Assert.IsType<RpcException>(e.InnerException).StatusCode);
    }

    [Fact]
    public async Task Events_waiting_behind_a_failing_batch_time_out_too()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.Fail, StatusCode.Unavailable) { Times = int.MaxValue });
        await using var producer = broker.CreateProducer(o =>
        {
            o.MaxBatchEvents = 1;
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.DeliveryTimeout = TimeSpan.FromSeconds(1);
            o.MaxRetries = 1000;
        });

        var produced = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync("orders", "k", $"event {i}")).ToList();

        foreach (var task in produced)
        {
            var e = await Assert.ThrowsAsync<EventStreamException>(() => task.WaitAsync(TestTimeout.Token()));
            Assert.Equal(EventStreamErrorReason.Timeout, e.Reason);
        }
    }

    [Fact]
    public async Task Without_idempotence_no_producer_id_is_sent_and_a_lost_answer_duplicates()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        broker.Producer.AddFault(new FaultRule(FaultKind.StoreThenFail, StatusCode.Unavailable));
        await using var producer = broker.CreateProducer(o => o.EnableIdempotence = false);

        var result = await producer.ProduceAsync("orders", "k", "v", cancellationToken: TestTimeout.Token());

        Assert.False(result.IsDuplicate);
        Assert.Equal("", producer.ProducerId);
        Assert.All(broker.Producer.Calls, c => Assert.Equal(("", 0L), (c.ProducerId, c.FirstSequence)));
        Assert.Equal(2, broker.Producer.Stored("orders").Count);
    }
}
