using System.Collections.Concurrent;
using EventStream.Protocol.V1;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// PostgreSQL failing over to a hot standby under load: two producers and a three-member group
/// run while the primary is killed and its synchronous standby promoted. The broker follows the
/// connection string to the new primary, whose group slot is missing, and the group reads again
/// from the table what followed its commits.
/// </summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task Primary_killed_and_standby_promoted_loses_nothing_acknowledged_and_the_group_runs_on_the_new_primary()
    {
        await using var servers = await StandbyPair.StartAsync();
        await using var broker = BrokerProcess.Start(new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStream"] = servers.ConnectionString,
            ["EventStream__Cluster__CoordinatorLeaseDuration"] = "00:00:03",
        });
        await broker.WaitUntilServingAsync(TimeSpan.FromSeconds(90));
        var topic = "t-" + Guid.NewGuid().ToString("N");
        await new Admin.AdminClient(broker.Channel).CreateTopicAsync(new CreateTopicRequest { Name = topic });
        var group = "g-" + Guid.NewGuid().ToString("N");
        var groupReceived = new ConcurrentQueue<ConsumedEvent>();
        var members = Enumerable.Range(0, 3)
            .Select(_ => new BackgroundConsumer(new EventStreamConsumer(BrokerFixture.TestConsumerOptions(broker.Address, group, topic)), groupReceived))
            .ToList();
        try
        {
            await Wait.UntilAsync(() => members.Sum(m => m.Consumer.Assignment.Count) == 32, "the members share every shard", TimeSpan.FromSeconds(60));
            var acknowledged = new ConcurrentQueue<string>();
            using var stopProducing = new CancellationTokenSource();
            var producers = Enumerable.Range(0, 2).Select(p => ProduceUntilStoppedAsync(broker.Address, topic, $"p{p}", acknowledged, stopProducing.Token)).ToList();
            await Wait.UntilAsync(() => members.Sum(m => m.Received.Count) >= 500, "events flow before the failover", TimeSpan.FromSeconds(60));

            await servers.KillPrimaryAsync();
            await servers.PromoteStandbyAsync();
            var atPromotion = acknowledged.Count;
            await Wait.UntilAsync(() => acknowledged.Count >= atPromotion + 500, "producing goes on on the new primary", TimeSpan.FromSeconds(90));
            await stopProducing.CancelAsync();
            await Task.WhenAll(producers);

            var expected = acknowledged.ToHashSet();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                var missing = expected.Except(members.SelectMany(m => m.Received).Select(e => e.GetPayloadString())).ToList();
                if (missing.Count == 0)
                {
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline,
                    $"{missing.Count} of {expected.Count} acknowledged events were not consumed, e.g. {string.Join(", ", missing.Take(5))}; " +
                    $"members received {string.Join(", ", members.Select(m => $"{m.Received.Count} ({m.Consumer.Assignment.Count} shards, {m.Failure?.Message ?? "no failure"})"))}.\n" +
                    broker.Output[Math.Max(0, broker.Output.Length - 20_000)..]);
                await Task.Delay(100);
            }
            Assert.All(members, member => Assert.Null(member.Failure));
            // The group reads its shards again from a margin before its commits, so a member may be
            // given events another member had before the failover; what is new to the group comes
            // in key order.
            var seen = new HashSet<string>();
            Keyed.AssertOrderedPerKey(groupReceived.Where(e => seen.Add(e.GetPayloadString())));
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>Produces one event per key and round, in order per key, recording each acknowledged payload.</summary>
    private static async Task ProduceUntilStoppedAsync(string address, string topic, string prefix, ConcurrentQueue<string> acknowledged, CancellationToken stop)
    {
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = address, Linger = TimeSpan.FromMilliseconds(2) });
        var keys = Enumerable.Range(0, 20).Select(i => $"{prefix}-key-{i}").ToList();
        for (var seq = 0; !stop.IsCancellationRequested; seq++)
        {
            var payloads = keys.Select(key => $"{key}:{seq}").ToList();
            // Not cancelled: a batch sent is seen through to its answer.
            await producer.ProduceBatchAsync(topic, keys.Select((key, i) => new ProducerEvent(payloads[i], key)), CancellationToken.None);
            foreach (var payload in payloads)
            {
                acknowledged.Enqueue(payload);
            }
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
