using EventStream.Protocol.V1;
using EventStream.Testing;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

public sealed class ConsumeRestartTests
{
    [Fact]
    public async Task Killed_broker_resumes_from_committed_positions_with_nothing_lost()
    {
        using var directory = new TestDirectory();
        var environment = new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = directory.Path,
            // The killed broker's coordinator lease keeps the group from the new one until it expires.
            ["EventStream__Cluster__CoordinatorLeaseDuration"] = "00:00:02",
        };
        var topic = UniqueTopic();
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        List<Event> before;
        await using (var first = BrokerProcess.Start(environment))
        {
            await first.WaitUntilServingAsync();
            await CreateTopicAsync(first.Channel, topic);
            await ProduceAsync(first, topic, 0, 100);
            // Every poll is committed before the next one.
            before = await PollUntilAsync(first.Channel, subscription, 40, TimeSpan.FromSeconds(30));
            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = BrokerProcess.Start(environment);
        await second.WaitUntilServingAsync();
        await ProduceAsync(second, topic, 100, 50);
        subscription.MemberId = "";
        var after = await PollUntilAsync(second.Channel, subscription, 150 - before.Count, TimeSpan.FromSeconds(60), retryUnavailable: true);

        var all = before.Concat(after).Select(e => e.Data.ToStringUtf8()).ToList();
        Assert.Equal(Enumerable.Range(0, 150).Select(i => "e" + i).Order(), all.Order());
        Assert.Empty(before.Select(e => e.EventId).Intersect(after.Select(e => e.EventId)));
    }

    private static async Task ProduceAsync(BrokerProcess broker, string topic, int from, int count) =>
        await new Producer.ProducerClient(broker.Channel).ProduceAsync(Batch(topic, Enumerable.Range(from, count).Select(i => Event("k" + (i % 7), "e" + i)))).ResponseAsync;
}
