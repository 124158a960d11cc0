using EventStream.Protocol.Sharding;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>Manual commits against the real broker: where a restart resumes, and fencing after a shard moved.</summary>
[Collection(BrokerCollection.Name)]
public sealed class CommitTests(BrokerFixture broker)
{
    [Fact]
    public async Task Manual_commit_of_an_event_makes_a_restart_resume_right_after_it()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        await using var producer = broker.CreateProducer();
        await Keyed.ProduceAsync(producer, topic, ["k"], perKey: 20);
        void Manual(EventStreamConsumerOptions o)
        {
            o.AutoCommitInterval = null;
            o.StartPosition = StartPosition.Earliest;
        }

        var received = new List<ConsumedEvent>();
        await using (var first = new EventStreamConsumer(broker.ConsumerOptions(group, topic, Manual)))
        {
            await foreach (var e in first.ConsumeAsync(TestTimeout.Token()))
            {
                received.Add(e);
                if (received.Count == 20)
                {
                    break;
                }
            }
            await first.CommitAsync(received[9], TestTimeout.Token());
        }

        await using var second = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, Manual)));
        await Wait.UntilAsync(() => second.Received.Count >= 10, "the uncommitted events came again");
        await Task.Delay(500);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (long)i), second.Received.Select(e => Keyed.Parse(e).Seq));
    }

    [Fact]
    public async Task Commit_after_the_shard_moved_to_another_member_fails_with_LeaseLost()
    {
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        void Manual(EventStreamConsumerOptions o) => o.AutoCommitInterval = null;
        // A newcomer asks first for the highest-numbered shard of the busiest member.
        var key = Enumerable.Range(0, 1000).Select(i => "k" + i).First(k => ShardHash.ShardOf(k, 32) == 31);
        await using var first = new EventStreamConsumer(broker.ConsumerOptions(group, topic, Manual));
        await using var events = first.ConsumeAsync(TestTimeout.Token()).GetAsyncEnumerator();
        var next = events.MoveNextAsync();
        await Wait.UntilAsync(() => first.Assignment.Count == 32, "the first member holds every shard");
        await using var producer = broker.CreateProducer();
        var sent = await producer.ProduceAsync(topic, key, "in hand");
        Assert.True(await next.AsTask().WaitAsync(TestTimeout.Token()));
        var inHand = events.Current;
        Assert.Equal(sent.EventId, inHand.EventId);

        await using var second = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(group, topic, Manual)));
        await Wait.UntilAsync(() => second.Consumer.Assignment.Contains(31), "the second member took the shard");
        var error = await Assert.ThrowsAsync<EventStreamException>(() => first.CommitAsync(inHand, TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.LeaseLost, error.Reason);
        Assert.False(error.IsTransient);
        await Wait.UntilAsync(() => second.Received.Any(e => e.EventId == sent.EventId), "the new owner received the uncommitted event");
    }
}
