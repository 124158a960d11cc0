using EventStream.Broker.Tests.Broker;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using EventStream.Testing;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>How members share, lose and hand over shards, on a real broker process.</summary>
[Collection(BrokerCollection.Name)]
public sealed class GroupBehaviourTests(BrokerFixture broker)
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(3);
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Second_member_gets_half_the_shards_within_a_few_rounds()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await using var a = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => a.Shards.Count == 32, "the first member holds every shard");

        await using var b = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => a.Shards.Count == 16 && b.Shards.Count == 16, "each member holds half", TimeSpan.FromSeconds(60));
        Assert.Empty(a.Shards.Keys.Intersect(b.Shards.Keys));
    }

    [Fact]
    public async Task Killed_member_loses_its_shards_after_expiry_and_its_uncommitted_events_go_to_the_new_owner()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await using var a = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: Session));
        await Wait.UntilAsync(() => a.Shards.Count == 32, "the first member holds every shard");
        await ProduceAsync(topic, 0, 40);
        await Wait.UntilAsync(() => a.Received.Count == 40, "the first member received everything");
        await a.CommitReceivedAsync();
        await ProduceAsync(topic, 40, 40);
        await Wait.UntilAsync(() => a.Received.Count == 80, "the first member received the second half");

        await using var b = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: Session));
        await a.AbandonAsync();
        await Wait.UntilAsync(() => b.Shards.Count == 32, "the survivor takes every shard after expiry", TimeSpan.FromSeconds(60));
        await Wait.UntilAsync(() => b.Received.Count >= 40, "the uncommitted events are delivered again");

        var redelivered = b.Received.Select(r => r.Event.Data.ToStringUtf8()).ToHashSet();
        Assert.Equal(Enumerable.Range(40, 40).Select(i => "e" + i).ToHashSet(), redelivered);
    }

    [Fact]
    public async Task Revoked_shards_released_without_commit_move_without_waiting_out_the_session_and_bring_their_uncommitted_events()
    {
        // Long sessions: without the release, the shards would move only a session timeout after the revocation.
        var session = TimeSpan.FromSeconds(30);
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await using var a = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: session));
        await Wait.UntilAsync(() => a.Shards.Count == 32, "the first member holds every shard");
        // Keys on every shard, whichever is revoked.
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 640).Select(i => Event("key-" + i, "e" + i))));
        await Wait.UntilAsync(() => a.Received.Count == 640, "the first member received everything");

        await using var b = await SubscribeSession.JoinAsync(Channel, Subscription(group, [topic], session: session));
        // A newcomer claims one shard a round (every 10 s here); the owner's next round revokes it.
        await Wait.UntilAsync(() => !a.Revoked.IsEmpty, "a shard of the first member is revoked", TimeSpan.FromSeconds(40));
        var revoked = a.Revoked.ToHashSet();
        var releasing = System.Diagnostics.Stopwatch.StartNew();
        await a.ReleaseAsync(revoked);

        // The second member takes it at its next round, not a session timeout (30 s) after the revocation.
        await Wait.UntilAsync(() => revoked.IsSubsetOf(b.Shards.Keys), "the second member holds the released shard", TimeSpan.FromSeconds(40));
        Assert.True(releasing.Elapsed < TimeSpan.FromSeconds(15), $"The released shard moved after {releasing.Elapsed}.");
        var handedOver = a.Received.Where(r => revoked.Contains(r.Event.Shard)).Select(r => r.Event.Data.ToStringUtf8()).ToHashSet();
        Assert.NotEmpty(handedOver);
        await Wait.UntilAsync(() => handedOver.IsSubsetOf(b.Received.Select(r => r.Event.Data.ToStringUtf8())), "the second member gets what the first did not commit");
        Assert.Null(a.Failure);
        Assert.Null(b.Failure);
    }

    [Fact]
    public async Task Commit_from_a_stale_owner_is_rejected()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var stale = Subscription(group, [topic], session: TimeSpan.FromSeconds(1));
        var first = await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = stale }).ResponseAsync;
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("key", "e")]));

        // Once the first member's session expired, the taker holds every shard and receives the event.
        var taker = Subscription(group, [topic], session: TimeSpan.FromSeconds(10));
        PollResponse? second = null;
        await Wait.UntilAsync(async () =>
        {
            second = await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = taker, MaxWait = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }).ResponseAsync;
            taker.MemberId = second.MemberId;
            return second.Assigned.Count == 32 && second.Events.Count > 0;
        }, "the taker holds every shard and has the event");

        // The first member commits, under its old lease, a position that was delivered (on any node).
        var delivered = second!.Events[0];
        var lease = first.Assigned.Single(l => l.Shard == delivered.Shard);
        var error = await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(Channel).CommitAsync(new CommitRequest
        {
            Group = group,
            MemberId = first.MemberId,
            Commits = { new ShardCommit { Shard = lease.Shard, Epoch = lease.Epoch, Position = delivered.Position } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Two_groups_on_one_topic_each_receive_everything()
    {
        var topic = await CreateTopicAsync(Channel);
        var one = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        var two = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        await ProduceAsync(topic, 0, 30);

        var first = await PollUntilAsync(Channel, one, 30, TimeSpan.FromSeconds(30));
        var second = await PollUntilAsync(Channel, two, 30, TimeSpan.FromSeconds(30));
        Assert.Equal(30, first.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(first.Select(e => e.EventId).Order(), second.Select(e => e.EventId).Order());
    }

    [Fact]
    public async Task Prefix_pattern_covers_matching_topics_only_including_ones_created_later()
    {
        var prefix = "adclick-" + Guid.NewGuid().ToString("N")[..8];
        var early = await CreateTopicAsync(Channel, prefix + ".eu");
        var other = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [prefix + "*"]);
        await PollUntilAsync(Channel, subscription, 1, TimeSpan.FromSeconds(1));
        var late = await CreateTopicAsync(Channel, prefix + ".us");

        await ProduceAsync(early, 0, 5);
        await ProduceAsync(other, 100, 5);
        await ProduceAsync(late, 200, 5);
        var events = await PollUntilAsync(Channel, subscription, 10, TimeSpan.FromSeconds(30));

        Assert.Equal(10, events.Count);
        Assert.Equal(new[] { early, late }.Order(), events.Select(e => e.Topic).Distinct().Order());
    }

    [Fact]
    public async Task Topics_created_one_after_another_under_a_prefix_all_reach_the_group()
    {
        var prefix = "burst-" + Guid.NewGuid().ToString("N")[..8];
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [prefix + "*"]);
        await PollUntilAsync(Channel, subscription, 1, TimeSpan.FromSeconds(1));

        // Each new topic's first events arrive well within a second of the previous topic's.
        for (var i = 0; i < 4; i++)
        {
            await ProduceAsync(await CreateTopicAsync(Channel, $"{prefix}.{i}"), i * 100, 5);
        }
        var events = await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30));

        Assert.Equal(20, events.Count);
    }

    [Fact]
    public async Task Text_and_json_payloads_render_for_grpcurl()
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        subscription.PayloadFormat = PayloadFormat.Json;
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [new EventData { Text = "{\"n\": 1}" }, new EventData { Text = "plain" }])).ResponseAsync;

        var events = await PollUntilAsync(Channel, subscription, 2, TimeSpan.FromSeconds(30));
        var ordered = events.OrderBy(e => e.EventId).ToList();
        Assert.Equal(1, ordered[0].Json.StructValue.Fields["n"].NumberValue);
        Assert.Equal("plain", ordered[1].Text);
    }

    private async Task ProduceAsync(string topic, int from, int count) =>
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(from, count).Select(i => Event("k" + (i % 7), "e" + i)))).ResponseAsync;
}
