using System.Diagnostics;
using EventStream.Testing;
using Xunit.Abstractions;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// The acceptance scenario: three member processes consume 100,000 keyed events while they are produced,
/// and one is killed mid-way without leaving. Nothing acknowledged is lost, repeats come only from what the
/// killed member had not committed, and each member sees every key in order.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class KilledMemberTests(BrokerFixture broker, ITestOutputHelper output)
{
    private const int Keys = 1000;
    private const int PerKey = 100;

    [Fact]
    public async Task Killed_member_loses_nothing_acknowledged_and_only_its_uncommitted_events_come_twice()
    {
        var clock = Stopwatch.StartNew();
        var topic = await broker.CreateTopicAsync();
        var group = BrokerFixture.NewGroup();
        var members = new List<ConsumerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                members.Add(ConsumerProcess.Start("member-" + i, broker.Address, group, topic, commitEvery: 500));
            }
            await Wait.UntilAsync(() => members.All(m => m.ShardCount > 0) || members.Any(m => m.HasExited),
                "every member holds shards", TimeSpan.FromSeconds(60));
            Assert.All(members, m => Assert.False(m.HasExited, $"{m.Name} exited: {m.Errors}"));
            output.WriteLine($"{clock.Elapsed}: members hold {string.Join(", ", members.Select(m => m.ShardCount))} shards");

            await using var producer = broker.CreateProducer();
            // Spread over some seconds, so the kill comes while events are still being produced.
            var producing = Keyed.ProduceAsync(producer, topic, Keyed.Keys(Keys), PerKey, pause: TimeSpan.FromMilliseconds(50));
            await Wait.UntilAsync(() => members.Sum(m => m.EventCount) >= Keys * PerKey * 3 / 10 || producing.IsCompleted,
                "a third of the events were consumed", TimeSpan.FromSeconds(60));
            Assert.False(producing.IsCompleted, "Production finished before the kill.");
            var victim = members.MaxBy(m => m.EventCount)!;
            victim.Kill();
            output.WriteLine($"{clock.Elapsed}: killed {victim.Name} after {victim.EventCount} events, {victim.Commits.Count} shard commits");

            var acknowledged = (await producing).Select(d => d.EventId).ToHashSet();
            output.WriteLine($"{clock.Elapsed}: {acknowledged.Count} events acknowledged");
            var survivors = members.Where(m => m != victim).ToList();
            await Wait.UntilAsync(() => acknowledged.IsSubsetOf(members.SelectMany(m => m.Events).Select(e => e.EventId)),
                "every acknowledged event was consumed", TimeSpan.FromSeconds(90));
            output.WriteLine($"{clock.Elapsed}: all consumed; survivors hold {string.Join(", ", survivors.Select(m => m.ShardCount))} shards");

            AssertRepeatsOnlyWhereTheVictimHadNotCommitted(members, victim);
            foreach (var member in members)
            {
                AssertOrderedPerKey(member, Redelivered(members, victim));
            }
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>Every event received more than once was received by the victim after its last commit on that shard.</summary>
    private void AssertRepeatsOnlyWhereTheVictimHadNotCommitted(List<ConsumerProcess> members, ConsumerProcess victim)
    {
        var repeated = members.SelectMany(m => m.Events).GroupBy(e => e.EventId).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var lastCommit = victim.Commits.GroupBy(c => c.Shard).ToDictionary(g => g.Key, g => g.Max(c => c.Position));
        var uncommitted = victim.Events
            .Where(e => !lastCommit.TryGetValue(e.Shard, out var committed) || e.Position > committed)
            .Select(e => e.EventId)
            .ToHashSet();
        output.WriteLine($"{repeated.Count} events came twice; the victim left {uncommitted.Count} uncommitted");
        var unexplained = repeated.Except(uncommitted).Take(10).ToList();
        Assert.True(unexplained.Count == 0, $"Events repeated that the victim had committed or never received: {string.Join(", ", unexplained)}");
    }

    private static HashSet<long> Redelivered(List<ConsumerProcess> members, ConsumerProcess victim) =>
        victim.Events.Select(e => e.EventId).Intersect(members.Where(m => m != victim).SelectMany(m => m.Events).Select(e => e.EventId)).ToHashSet();

    /// <summary>Sequences per key increase in what a member received, except where redelivery starts over.</summary>
    private static void AssertOrderedPerKey(ConsumerProcess member, HashSet<long> redelivered)
    {
        var last = new Dictionary<string, long>();
        foreach (var e in member.Events)
        {
            if (last.TryGetValue(e.Key, out var previous) && e.Seq <= previous && !redelivered.Contains(e.EventId))
            {
                Assert.Fail($"{member.Name}: key {e.Key} sequence {e.Seq} (event {e.EventId}) arrived after {previous}.");
            }
            last[e.Key] = e.Seq;
        }
    }
}
