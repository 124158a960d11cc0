using EventStream.Broker.Tests.Broker;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>Consumer groups on a real broker process, driven through the unary contract.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ConsumeTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Group_starting_at_earliest_gets_earlier_events_exactly_once_at_the_seam()
    {
        var topic = await CreateTopicAsync(Channel);
        await ProduceAsync(topic, 0, 50);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);

        var first = await PollUntilAsync(Channel, subscription, 50, TimeSpan.FromSeconds(30));
        await ProduceAsync(topic, 50, 50);
        var second = await PollUntilAsync(Channel, subscription, 50, TimeSpan.FromSeconds(30));

        var payloads = first.Concat(second).Select(e => e.Data.ToStringUtf8()).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "e" + i).Order(), payloads.Order());
    }

    [Fact]
    public async Task One_member_gets_every_shard()
    {
        var topic = await CreateTopicAsync(Channel);
        var response = await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]) }).ResponseAsync;
        Assert.Equal(Enumerable.Range(0, 32), response.Assigned.Select(l => l.Shard));
    }

    [Fact]
    public async Task Latest_group_sees_only_what_comes_after_it()
    {
        var topic = await CreateTopicAsync(Channel);
        await ProduceAsync(topic, 0, 10);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]);
        await PollUntilAsync(Channel, subscription, 1, TimeSpan.FromSeconds(2));
        await ProduceAsync(topic, 10, 10);
        var events = await PollUntilAsync(Channel, subscription, 10, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(10, 10).Select(i => "e" + i).Order(), events.Select(e => e.Data.ToStringUtf8()).Order());
    }

    private async Task ProduceAsync(string topic, int from, int count) =>
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(from, count).Select(i => Event("k" + (i % 7), "e" + i)))).ResponseAsync;
}
