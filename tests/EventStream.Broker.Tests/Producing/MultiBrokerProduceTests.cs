using EventStream.Protocol.V1;
using EventStream.Broker.Tests.Consuming;
using Grpc.Net.Client;
using Npgsql;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Producing;

/// <summary>One idempotent producer whose batches reach two broker processes on one database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiBrokerProduceTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_broker_recognises_batches_another_broker_stored_since_it_last_served_the_producer()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(a.Channel);
        var producer = Guid.NewGuid().ToString();

        // a stores 0-9 and remembers where the producer stands; then the producer reconnects to b.
        await new Producer.ProducerClient(a.Channel).ProduceAsync(Batch(topic, Values("first", 10), producer, 0)).ResponseAsync;
        var second = Batch(topic, Values("second", 10), producer, 10);
        var storedByB = await new Producer.ProducerClient(b.Channel).ProduceAsync(second).ResponseAsync;

        // Its retry of 10-19 reaches a, whose own memory still says 10 is next.
        var retried = await new Producer.ProducerClient(a.Channel).ProduceAsync(second).ResponseAsync;
        Assert.True(retried.Duplicate);
        Assert.Equal(storedByB.FirstEventId, retried.FirstEventId);
        Assert.Equal(storedByB.Shards, retried.Shards);

        var third = await new Producer.ProducerClient(a.Channel).ProduceAsync(Batch(topic, Values("third", 10), producer, 20)).ResponseAsync;
        Assert.False(third.Duplicate);

        var stored = await StoredAsync(cluster.Database, topic);
        Assert.Equal(30, stored.Count);
        // Each broker numbers events from its own block of ids, so compare contents, not id order.
        Assert.Equal(
            Values("first", 10).Concat(Values("second", 10)).Concat(Values("third", 10)).Select(e => e.Data.ToStringUtf8()).Order(StringComparer.Ordinal),
            stored.Select(s => s.Payload).Order(StringComparer.Ordinal));
        Assert.Equal(30, stored.Select(s => s.EventId).Distinct().Count());
        await using var sequence = cluster.Database.CreateCommand("SELECT next_sequence FROM eventstream.producer_sequences WHERE producer_id = $1");
        sequence.Parameters.Add(new NpgsqlParameter { Value = producer });
        Assert.Equal(30L, await sequence.ExecuteScalarAsync());
    }

    private static IEnumerable<Protocol.V1.EventData> Values(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => Event("k" + (i % 3), $"{prefix}-{i:D2}"));
}
