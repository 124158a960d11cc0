using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>One consumer against the real broker: everything arrives, in order per key, and commits hold across restarts.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ConsumeTests(BrokerFixture broker)
{
    [Fact]
    public async Task One_consumer_receives_every_event_in_per_key_order_and_a_restart_redelivers_nothing_committed()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        var keys = Keyed.Keys(20);
        await using var producer = broker.CreateProducer();
        var before = await Keyed.ProduceAsync(producer, topic, keys, perKey: 10);

        var first = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, o => o.StartPosition = StartPosition.Earliest)));
        await Wait.UntilAsync(() => first.Received.Count >= before.Count, "the events produced before the group existed arrived");
        var during = await Keyed.ProduceAsync(producer, topic, keys, perKey: 15, firstSequence: 10);
        await Wait.UntilAsync(() => first.Received.Count >= before.Count + during.Count, "the events produced while consuming arrived");
        // The loop moved past every event it received, so disposing commits them all.
        await first.DisposeAsync();

        Assert.Null(first.Failure);
        var received = first.Received.ToList();
        Assert.Equal(before.Concat(during).Select(d => d.EventId).Order(), received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(received);
        Assert.All(received, e => Assert.Equal(topic, e.Topic));

        var after = await Keyed.ProduceAsync(producer, topic, keys, perKey: 2, firstSequence: 25);
        await using var second = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => second.Received.Count >= after.Count, "the new events arrived after the restart");
        await Task.Delay(500);

        Assert.Equal(after.Select(d => d.EventId).Order(), second.Received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(second.Received);
    }

    [Fact]
    public async Task A_new_group_starting_at_latest_skips_what_was_produced_before_it()
    {
        var topic = await broker.CreateTopicAsync();
        await using var producer = broker.CreateProducer();
        await producer.ProduceAsync(topic, "k", "old:0");

        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(BrokerFixture.NewGroup(), topic)));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the member holds every shard");
        var fresh = await producer.ProduceAsync(topic, "k", "new:1");
        await Wait.UntilAsync(() => !consumer.Received.IsEmpty, "the new event arrived");

        Assert.Equal([fresh.EventId], consumer.Received.Select(e => e.EventId));
    }

    [Fact]
    public async Task Consumed_events_carry_what_the_producer_sent()
    {
        var topic = await broker.CreateTopicAsync();
        await using var producer = broker.CreateProducer();
        var producerTime = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var sent = await producer.ProduceAsync(topic, new ProducerEvent("""{"n":1}""", "customer-1")
        {
            ContentType = "application/json",
            Headers = new Dictionary<string, string> { ["traceparent"] = "00-abc-01" },
            ProducerTime = producerTime,
        });

        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(
            broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.StartPosition = StartPosition.Earliest)));
        await Wait.UntilAsync(() => !consumer.Received.IsEmpty, "the event arrived");

        var e = Assert.Single(consumer.Received);
        Assert.Equal(sent.EventId, e.EventId);
        Assert.Equal(sent.Shard, e.Shard);
        Assert.Equal("customer-1", e.GetKeyString());
        Assert.Equal("""{"n":1}""", e.GetPayloadString());
        Assert.Equal("application/json", e.ContentType);
        Assert.Equal("00-abc-01", e.Headers["traceparent"]);
        Assert.Equal(producerTime, e.ProducerTime);
        Assert.True((sent.IngestTime - e.IngestTime).Duration() < TimeSpan.FromMilliseconds(1), $"{sent.IngestTime:O} vs {e.IngestTime:O}");
        Assert.Equal(e.EventId, e.Position.EventId);
        Assert.True(e.LeaseEpoch > 0);
        Assert.Same(e.RawEvent, e.RawEvent);
    }
}
