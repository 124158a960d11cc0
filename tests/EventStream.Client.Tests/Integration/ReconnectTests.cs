using EventStream.Testing;
using Xunit.Abstractions;

namespace EventStream.Client.Tests.Integration;

/// <summary>Transient failures: a cut connection and a restarted broker, on the real broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ReconnectTests(BrokerFixture broker, ITestOutputHelper output)
{
    [Fact]
    public async Task Consumer_joins_again_as_the_same_member_after_its_connection_is_cut_and_keeps_its_shards()
    {
        var topic = await broker.CreateTopicAsync();
        await using var network = new FreezableProxy(broker.Address);
        using var logging = TestOutputLogging.Factory(output);
        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(
            broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.Address = network.Address), logging));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the member holds every shard");
        await using var producer = broker.CreateProducer();
        var before = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(5), perKey: 4);
        await Wait.UntilAsync(() => consumer.Received.Count == before.Count, "the first events arrived");
        var epochs = consumer.Received.DistinctBy(e => e.Shard).ToDictionary(e => e.Shard, e => e.LeaseEpoch);

        network.ResetAll();
        await Wait.UntilAsync(() => network.Accepted >= 2 && consumer.Consumer.IsJoined, "the member joined again");
        var after = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(5), perKey: 4, firstSequence: 4);
        await Wait.UntilAsync(() => consumer.Received.Count >= before.Count + after.Count, "the later events arrived");

        Assert.Null(consumer.Failure);
        Assert.Equal(before.Concat(after).Select(d => d.EventId).Order(), consumer.Received.Select(e => e.EventId).Order());
        Keyed.AssertOrderedPerKey(consumer.Received);
        Assert.Equal(32, consumer.Consumer.Assignment.Count);
        Assert.All(consumer.Received.Where(e => epochs.ContainsKey(e.Shard)), e => Assert.Equal(epochs[e.Shard], e.LeaseEpoch));
    }

    /// <summary>
    /// Broker bug: a member that joins again before its session timed out is not sent again what its broken
    /// session had been sent but had not committed, so those events never reach it (and its next commit on
    /// the shard skips them for good).
    /// </summary>
    [Fact]
    public async Task Member_joining_again_receives_the_uncommitted_events_its_cut_connection_had_in_flight()
    {
        var topic = await broker.CreateTopicAsync();
        await using var network = new FreezableProxy(broker.Address);
        using var logging = TestOutputLogging.Factory(output);
        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(
            broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.Address = network.Address), logging));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the member holds every shard");

        // The broker sends these into a stalled connection, which is then cut.
        network.Freeze();
        await using var producer = broker.CreateProducer();
        var lost = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(5), perKey: 4);
        await Task.Delay(500);
        network.ResetAll();
        await Wait.UntilAsync(() => network.Accepted >= 2 && consumer.Consumer.IsJoined, "the member joined again");
        var later = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(5), perKey: 4, firstSequence: 4);
        await Wait.UntilAsync(() => consumer.Received.Any(e => e.EventId == later[^1].EventId), "the later events arrived");
        await Task.Delay(1000);

        var missing = lost.Select(d => d.EventId).Except(consumer.Received.Select(e => e.EventId)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {lost.Count} events sent into the cut connection never arrived.");
    }

    /// <summary>
    /// Broker bug: a member whose requests stall past its session timeout on a connection that stays open
    /// is dropped from the group but its session goes on, receiving nothing, so it never rejoins.
    /// </summary>
    [Fact]
    public async Task Member_silent_past_its_session_timeout_gets_back_into_the_group_once_heard_from_again()
    {
        var topic = await broker.CreateTopicAsync();
        await using var network = new FreezableProxy(broker.Address);
        using var logging = TestOutputLogging.Factory(output);
        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(
            broker.ConsumerOptions(BrokerFixture.NewGroup(), topic, o => o.Address = network.Address), logging));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the member holds every shard");

        // Heartbeats stall for longer than the 3 s session timeout, then flow again on the same connection.
        network.Freeze(requests: true);
        await Task.Delay(TimeSpan.FromSeconds(5));
        network.Thaw();
        await using var producer = broker.CreateProducer();
        var sent = await producer.ProduceAsync(topic, "k", "k:0");

        await Wait.UntilAsync(() => consumer.Received.Any(e => e.EventId == sent.EventId), "the member consumes again", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Consumer_rides_out_a_broker_restart_and_receives_what_was_produced_meanwhile()
    {
        var topic = await broker.CreateTopicAsync();
        using var logging = TestOutputLogging.Factory(output);
        await using var consumer = new BackgroundConsumer(new EventStreamConsumer(broker.ConsumerOptions(BrokerFixture.NewGroup(), topic), logging));
        await Wait.UntilAsync(() => consumer.Consumer.Assignment.Count == 32, "the member holds every shard");
        await using (var producer = broker.CreateProducer())
        {
            await Keyed.ProduceAsync(producer, topic, Keyed.Keys(3), perKey: 5);
        }
        await Wait.UntilAsync(() => consumer.Received.Count == 15, "the first events arrived");

        await broker.RestartAsync();
        await using (var producer = broker.CreateProducer())
        {
            await Keyed.ProduceAsync(producer, topic, Keyed.Keys(3), perKey: 5, firstSequence: 5);
        }
        try
        {
            await Wait.UntilAsync(() => consumer.Received.Select(e => e.EventId).Distinct().Count() == 30, "the events produced after the restart arrived", TimeSpan.FromSeconds(20));
        }
        finally
        {
            output.WriteLine(broker.Process.Output);
        }

        Assert.Null(consumer.Failure);
        Keyed.AssertOrderedPerKey(consumer.Received.DistinctBy(e => e.EventId));
    }
}
