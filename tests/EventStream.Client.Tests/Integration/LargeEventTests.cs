using EventStream.Protocol.V1;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// A backlog of large events on one key, more than one 4 MiB message holds, reaches the SDK
/// consumer in order: the broker splits its pushes by bytes as well as by count.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class LargeEventTests(BrokerFixture broker)
{
    [Theory]
    [InlineData(600, 10 * 1024)]
    [InlineData(6, 900 * 1024)]
    public async Task A_backlog_of_large_events_on_one_key_is_consumed_in_order(int count, int size)
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        await StartAndLeaveAsync(group, topic);

        await using var producer = broker.CreateProducer();
        var produced = await producer.ProduceBatchAsync(topic, Enumerable.Range(0, count).Select(i => new ProducerEvent(Payload(i, size), "one-key")));
        await WaitForBacklogAsync(group, count);

        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic)));
        await Wait.UntilAsync(() => consumer.Received.Count >= count || consumer.Failure is not null, $"{count} events arrived", TimeSpan.FromSeconds(60));

        Assert.Null(consumer.Failure);
        var received = consumer.Received.ToList();
        Assert.Equal(produced.Select(d => d.EventId), received.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(0, count).Select(i => Payload(i, size)), received.Select(e => e.GetPayloadString()));
    }

    private static string Payload(int i, int size)
    {
        var head = $"e{i}:";
        return head + new string((char)('a' + (i % 26)), size - head.Length);
    }

    /// <summary>Creates the group with a member that then leaves, so later events wait for the next one.</summary>
    private async Task StartAndLeaveAsync(string group, string topic)
    {
        var first = new EventStreamConsumer(broker.ConsumerOptions(group, topic));
        await using (var starter = new BackgroundConsumer(first))
        {
            await Wait.UntilAsync(() => first.Assignment.Count == 32, "the first member holds every shard");
        }
    }

    /// <summary>Waits until the group buffered <paramref name="count"/> uncommitted events.</summary>
    private async Task WaitForBacklogAsync(string group, int count)
    {
        var admin = new Admin.AdminClient(broker.Channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await admin.DescribeGroupAsync(new DescribeGroupRequest { Group = group })).Shards.Sum(s => s.BufferedEvents) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until the group buffered every event.");
            await Task.Delay(50);
        }
    }
}
