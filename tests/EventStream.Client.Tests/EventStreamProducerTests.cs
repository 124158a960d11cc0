using System.Text;
using EventStream.Client.Tests.Fakes;
using EventStream.Protocol.Sharding;
using EventStream.Protocol.V1;

namespace EventStream.Client.Tests;

/// <summary>Producing against the in-process fake broker: what is sent and what comes back.</summary>
public class EventStreamProducerTests
{
    [Fact]
    public async Task Produce_returns_where_the_event_was_stored_and_sends_every_field()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer();
        var producerTime = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var headers = new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01" };

        var result = await producer.ProduceAsync("orders",
            new ProducerEvent("{\"id\":1}", key: "customer-42") { Headers = headers, ProducerTime = producerTime, ContentType = "application/json" },
            TestTimeout.Token());

        var stored = Assert.Single(broker.Producer.Stored("orders"));
        Assert.Equal(new DeliveryResult("orders", stored.Shard, stored.EventId, result.IngestTime, producerTime, IsDuplicate: false), result);
        Assert.Equal(ShardHash.ShardOf("customer-42", FakeProducerService.ShardCount), result.Shard);
        Assert.InRange(result.IngestTime, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(EventData.KeyOneofCase.KeyBytes, stored.Data.KeyCase);
        Assert.Equal("customer-42", stored.Data.KeyBytes.ToStringUtf8());
        Assert.Equal("{\"id\":1}", stored.Data.Data.ToStringUtf8());
        Assert.Equal("00-abc-def-01", stored.Data.Headers["traceparent"]);
        Assert.Equal(producerTime, stored.Data.ProducerTime.ToDateTimeOffset());
        Assert.Equal("application/json", stored.Data.ContentType);
        Assert.Equal((producer.ProducerId, 0L), (stored.ProducerId, stored.Sequence));
    }

    [Fact]
    public async Task Keyless_event_has_no_key_and_is_stamped_with_the_produce_time()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer();
        var before = DateTimeOffset.UtcNow;

        var result = await producer.ProduceAsync("orders", key: null, payload: "hello", cancellationToken: TestTimeout.Token());

        var stored = Assert.Single(broker.Producer.Stored("orders"));
        Assert.Equal(EventData.KeyOneofCase.None, stored.Data.KeyCase);
        Assert.Empty(stored.Data.ContentType);
        Assert.InRange(result.ProducerTime, before, DateTimeOffset.UtcNow);
        Assert.Equal(result.ProducerTime, stored.Data.ProducerTime.ToDateTimeOffset());
    }

    [Fact]
    public async Task Binary_key_and_payload_are_copied_when_produced()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o => o.Linger = TimeSpan.FromMilliseconds(100));
        var key = new byte[] { 1, 2, 3 };
        var payload = new byte[] { 4, 5, 6 };

        var produced = producer.ProduceAsync("orders", key, payload, cancellationToken: TestTimeout.Token());
        key[0] = 9;
        payload[0] = 9;
        await produced;

        var stored = Assert.Single(broker.Producer.Stored("orders"));
        Assert.Equal([1, 2, 3], stored.Data.KeyBytes.ToByteArray());
        Assert.Equal([4, 5, 6], stored.Data.Data.ToByteArray());
    }

    [Fact]
    public async Task ProduceBatch_returns_the_deliveries_in_order_and_keeps_the_events_together()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o => o.MaxBatchEvents = 7);
        var events = Enumerable.Range(0, 20).Select(i => new ProducerEvent($"event {i}", key: "k")).ToList();

        var other = producer.ProduceAsync("orders", "k", "other", cancellationToken: TestTimeout.Token());
        var results = await producer.ProduceBatchAsync("orders", events, TestTimeout.Token());
        await other;

        Assert.Equal(20, results.Count);
        var stored = broker.Producer.Stored("orders").ToDictionary(e => e.EventId);
        Assert.Equal(events.Select(e => Encoding.UTF8.GetString(e.Payload.Span)), results.Select(r => stored[r.EventId].Data.Data.ToStringUtf8()));
        Assert.Equal(results.Select(r => r.EventId).Order(), results.Select(r => r.EventId));
        Assert.Empty(await producer.ProduceBatchAsync("orders", [], TestTimeout.Token()));
    }

    [Fact]
    public async Task Event_larger_than_a_request_fails_with_LimitExceeded_without_a_call()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer();

        var e = await Assert.ThrowsAsync<EventStreamException>(() =>
            producer.ProduceAsync("orders", null, new byte[4 * 1024 * 1024], cancellationToken: TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.LimitExceeded, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Empty(broker.Producer.Calls);
    }

    [Fact]
    public async Task Event_larger_than_MaxBatchBytes_is_sent_alone()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        await using var producer = broker.CreateProducer(o => o.MaxBatchBytes = 1000);

        await producer.ProduceAsync("orders", null, new byte[5000], cancellationToken: TestTimeout.Token());

        Assert.Equal(1, Assert.Single(broker.Producer.Calls).Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("trailing-newline\n")]
    [InlineData("ümlaut")]
    public async Task Invalid_topic_name_is_rejected_before_sending(string topic)
    {
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions());
        Assert.Throws<ArgumentException>(() => { _ = producer.ProduceAsync(topic, "k", "v"); });
        Assert.Throws<ArgumentException>(() => { _ = producer.ProduceBatchAsync(topic, []); });
    }

    [Fact]
    public async Task Null_header_value_is_rejected()
    {
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions());
        var headers = new Dictionary<string, string> { ["a"] = null! };
        Assert.Throws<ArgumentException>(() => { _ = producer.ProduceAsync("orders", "k", "v", headers); });
    }
}
