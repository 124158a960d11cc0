using System.Globalization;
using EventStream.Broker.Tests.Broker;
using EventStream.Grpc;
using EventStream.Grpc.Client;
using EventStream.Protocol.Methods;
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
        await Channel.UnaryAsync(ProducerMethods.Produce, Batch(topic, Enumerable.Range(0, 10).Select(i => Event("k", "e" + i))));
        var consumed = await PollUntilAsync(Channel, subscription, 10, TimeSpan.FromSeconds(30));
        await Channel.UnaryAsync(ProducerMethods.Produce, Batch(topic, Enumerable.Range(0, 5).Select(i => Event("k", "late" + i))));

        var listed = await Channel.UnaryAsync(AdminMethods.ListGroups, new ListGroupsRequest());
        var summary = Assert.Single(listed.Groups, g => g.Group == group);
        Assert.Equal([topic], summary.Topics);
        Assert.Equal(1, summary.MemberCount);

        var shard = consumed[0].Shard;
        GroupDescription description = null!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            description = await Channel.UnaryAsync(AdminMethods.DescribeGroup, new DescribeGroupRequest { Group = group });
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
        await Channel.UnaryAsync(ConsumerMethods.Poll, new PollRequest { Subscription = Subscription(group, [topic]) });
        // One slot on a single PostgreSQL; one per worker on Citus.
        Assert.Equal(BrokerFixture.CitusWorkers is { } workers ? int.Parse(workers, CultureInfo.InvariantCulture) : 1, await SlotCountAsync(group));

        await Channel.UnaryAsync(AdminMethods.DeleteGroup, new DeleteGroupRequest { Group = group });

        Assert.Equal(0, await SlotCountAsync(group));
        var gone = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.DescribeGroup, new DescribeGroupRequest { Group = group }));
        Assert.Equal(GrpcStatusCode.NotFound, gone.StatusCode);
        var again = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.DeleteGroup, new DeleteGroupRequest { Group = group }));
        Assert.Equal(GrpcStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Reset_to_earliest_reads_everything_again_once_members_left()
    {
        var topic = await CreateTopicAsync(Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription(group, [topic], StartPoint.Types.Kind.Earliest);
        await Channel.UnaryAsync(ProducerMethods.Produce, Batch(topic, Enumerable.Range(0, 20).Select(i => Event("k" + i, "e" + i))));
        Assert.Equal(20, (await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30))).Count);

        var busy = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.ResetGroup,
            new ResetGroupRequest { Group = group, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } }));
        Assert.Equal(GrpcStatusCode.FailedPrecondition, busy.StatusCode);

        await Channel.UnaryAsync(ConsumerMethods.Leave, new LeaveRequest { Group = group, MemberId = subscription.MemberId });
        await Channel.UnaryAsync(AdminMethods.ResetGroup, new ResetGroupRequest { Group = group, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } });

        subscription.MemberId = "";
        var again = await PollUntilAsync(Channel, subscription, 20, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "e" + i).Order(), again.Select(e => e.Data.ToStringUtf8()).Order());
    }

    [Fact]
    public async Task Bad_group_requests_get_a_clear_status()
    {
        var bad = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.DescribeGroup, new DescribeGroupRequest { Group = "no spaces" }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, bad.StatusCode);
        var noTopics = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(ConsumerMethods.Poll,
            new PollRequest { Subscription = new Subscription { Group = "g-" + Guid.NewGuid().ToString("N") } }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, noTopics.StatusCode);
        var badPattern = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(ConsumerMethods.Poll,
            new PollRequest { Subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), ["a*b"]) }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, badPattern.StatusCode);
        var noMember = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(ConsumerMethods.Commit, new CommitRequest { Group = "g" }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, noMember.StatusCode);
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
