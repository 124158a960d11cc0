using System.Globalization;
using EventStream.Broker.Tests.Broker;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using Npgsql;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>The group methods of eventstream.v1.Admin on a real broker process.</summary>
[Collection(BrokerCollection.Name)]
public sealed class GroupAdminTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Groups_are_listed_and_described_with_owners_positions_and_lag()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription(group, [topic], StartPoint.Types.Kind.Earliest);
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 10).Select(i => Event("k", "e" + i)))).ResponseAsync;
        var consumed = await PollUntilAsync(Channel, subscription, 10, TimeSpan.FromSeconds(30));
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 5).Select(i => Event("k", "late" + i)))).ResponseAsync;

        var listed = await new Admin.AdminClient(Channel).ListGroupsAsync(new ListGroupsRequest()).ResponseAsync;
        var summary = Assert.Single(listed.Groups, g => g.Group == group);
        Assert.Equal([topic], summary.Topics);
        Assert.Equal(1, summary.MemberCount);

        var shard = consumed[0].Shard;
        GroupDescription description = null!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            description = await new Admin.AdminClient(Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group }).ResponseAsync;
        }
        while (description.Shards[shard].LagEvents < 5 && DateTime.UtcNow < deadline && await Delay());
        var member = Assert.Single(description.Members);
        Assert.Equal(subscription.MemberId, member.MemberId);
        Assert.Equal(32, member.Shards.Count);
        var state = description.Shards[shard];
        Assert.Equal(subscription.MemberId, state.Owner);
        Assert.True(state.Epoch >= 1);
        Assert.Equal(consumed[^1].Position.EventId, state.Committed.EventId);
        Assert.Equal(5, state.LagEvents);
        Assert.True(state.LagBytes > 0);
        Assert.True(description.SlotLagBytes >= 0);
        // The one broker runs the group, reachable where its clients reach it.
        Assert.Equal(new Uri(broker.Process.Address).Port, new Uri(description.Coordinator.Address).Port);
        Assert.True(description.Coordinator.Epoch >= 1);
        Assert.True(description.Coordinator.ExpiresAt.ToDateTime() > description.Coordinator.AcquiredAt.ToDateTime());
    }

    [Fact]
    public async Task Deleting_a_group_drops_its_slot()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = Subscription(group, [topic]) }).ResponseAsync;
        // One slot on a single PostgreSQL; one per worker on Citus.
        Assert.Equal(BrokerFixture.CitusWorkers is { } workers ? int.Parse(workers, CultureInfo.InvariantCulture) : 1, await SlotCountAsync(group));

        await new Admin.AdminClient(Channel).DeleteGroupAsync(new DeleteGroupRequest { Group = group }).ResponseAsync;

        Assert.Equal(0, await SlotCountAsync(group));
        var gone = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        var again = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).DeleteGroupAsync(new DeleteGroupRequest { Group = group }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Reset_to_earliest_reads_everything_again_once_members_left()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription(group, [topic], StartPoint.Types.Kind.Earliest);
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 20).Select(i => Event("k" + i, "e" + i)))).ResponseAsync;
        Assert.Equal(20, (await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30))).Count);

        var busy = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).ResetGroupAsync(new ResetGroupRequest { Group = group, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, busy.StatusCode);

        await new Consumer.ConsumerClient(Channel).LeaveAsync(new LeaveRequest { Group = group, MemberId = subscription.MemberId }).ResponseAsync;
        await new Admin.AdminClient(Channel).ResetGroupAsync(new ResetGroupRequest { Group = group, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } }).ResponseAsync;

        subscription.MemberId = "";
        var again = await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "e" + i).Order(), again.Select(e => e.Data.ToStringUtf8()).Order());
    }

    [Fact]
    public async Task Reset_to_latest_reads_only_what_comes_after_it()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription(group, [topic], StartPoint.Types.Kind.Earliest);
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 20).Select(i => Event("k" + i, "e" + i)))).ResponseAsync;
        Assert.Equal(20, (await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30))).Count);
        await new Consumer.ConsumerClient(Channel).LeaveAsync(new LeaveRequest { Group = group, MemberId = subscription.MemberId }).ResponseAsync;

        await new Admin.AdminClient(Channel).ResetGroupAsync(new ResetGroupRequest { Group = group, Start = new StartPoint { Kind = StartPoint.Types.Kind.Latest } }).ResponseAsync;
        // The group's slot was dropped by the reset, not lost: its new one starts afresh.
        subscription.MemberId = "";
        subscription.Start = new StartPoint { Kind = StartPoint.Types.Kind.Latest };
        subscription.MemberId = (await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = subscription, MaxWait = new Google.Protobuf.WellKnownTypes.Duration() }).ResponseAsync).MemberId;
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 5).Select(i => Event("k" + i, "n" + i)))).ResponseAsync;

        var after = await PollUntilAsync(Channel, subscription, 5, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => "n" + i).Order(), after.Select(e => e.Data.ToStringUtf8()).Order());
    }

    [Fact]
    public async Task Bad_group_requests_get_a_clear_status()
    {
        var bad = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = "no spaces" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        var noTopics = await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = new Subscription { Group = "g-" + Guid.NewGuid().ToString("N") } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noTopics.StatusCode);
        var badPattern = await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), ["a*b"]) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badPattern.StatusCode);
        var noMember = await Assert.ThrowsAsync<RpcException>(() => new Consumer.ConsumerClient(Channel).CommitAsync(new CommitRequest { Group = "g" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noMember.StatusCode);
    }

    /// <summary>The group's slots on every node of the database.</summary>
    private async Task<long> SlotCountAsync(string group)
    {
        var slot = EventStream.Broker.Consuming.SlotNames.ForGroup(group);
        await using var command = broker.Database.CreateCommand(BrokerFixture.CitusWorkers is null
            ? "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1"
            : "SELECT sum(result::bigint)::bigint FROM run_command_on_all_nodes(format('SELECT count(*) FROM pg_replication_slots WHERE slot_name = %L', $1::text))");
        command.Parameters.Add(new NpgsqlParameter { Value = slot });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }
}
