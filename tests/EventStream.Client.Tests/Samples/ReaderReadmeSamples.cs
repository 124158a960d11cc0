using EventStream.Client.Tests.Integration;

namespace EventStream.Client.Tests.Samples;

/// <summary>
/// The README's reader sample, compiled and run against the real broker: the text between
/// <c>#region Snippet:Read</c> and its <c>#endregion</c> is pasted into README.md as is.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ReaderReadmeSamples(BrokerFixture broker)
{
    [Fact]
    public async Task Read_sample_reads_the_topic_and_a_second_read_continues_after_it()
    {
        var topic = await broker.CreateTopicAsync("orders");
        await using (var producer = broker.CreateProducer())
        {
            for (var i = 0; i < 25; i++)
            {
                _ = producer.ProduceAsync(topic, key: "customer-42", payload: $"order {i}");
            }
            await producer.FlushAsync();
        }

        var (first, after) = await ReadAsync(broker.Address, topic, [], CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"order {i}"), first);
        var (second, _) = await ReadAsync(broker.Address, topic, after, CancellationToken.None);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"order {i}"), second);
    }

    private static async Task<(List<string> Payloads, Dictionary<int, long> After)> ReadAsync(
        string address, string topic, Dictionary<int, long> lastRead, CancellationToken cancellationToken)
    {
        var payloads = new List<string>();
        #region Snippet:Read
        // No group, no commits: a read for tools and debugging. Pass the last event id read per shard
        // (ReadOptions.After) to continue where an earlier read stopped; Follow = true waits for new events.
        await using var reader = new EventStreamReader(new EventStreamReaderOptions { Address = address });
        var options = new ReadOptions { Start = StartPosition.Earliest, After = lastRead, MaxEvents = 10 };
        var after = new Dictionary<int, long>(lastRead);
        await foreach (ConsumedEvent e in reader.ReadAsync(topic, options, cancellationToken))
        {
            payloads.Add(e.GetPayloadString());
            after[e.Shard] = e.EventId;
        }
        #endregion
        return (payloads, after);
    }
}
