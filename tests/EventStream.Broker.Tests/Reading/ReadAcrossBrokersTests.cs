using EventStream.Broker.Tests.Consuming;
using EventStream.Protocol.V1;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Reading;

/// <summary>Following a topic on one broker while another broker sharing the database stores its events.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReadAcrossBrokersTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_follower_gets_events_another_broker_stored()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var reader = await cluster.StartBrokerAsync();
        var writer = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(writer.Channel);
        const int Batches = 20, PerBatch = 25;

        var reading = ReadTests.ReadAllAsync(reader.Channel, new ReadRequest
        {
            Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, Follow = true, MaxEvents = 2 * Batches * PerBatch,
        });
        var producers = new[] { new Producer.ProducerClient(writer.Channel), new Producer.ProducerClient(reader.Channel) };
        await Task.WhenAll(producers.Select((producer, p) => Task.Run(async () =>
        {
            for (var b = 0; b < Batches; b++)
            {
                await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, PerBatch).Select(i => Event($"broker-{p}", $"{b}-{i}"))));
            }
        })));
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2 * Batches * PerBatch, read.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(Batches * PerBatch, read.Count(e => e.Key.ToStringUtf8() == "broker-0"));
    }
}
