using EventStream.Protocol.V1;
using Grpc.Core;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>ACLs on a real broker: literal and prefix rights, deny wins, per-group consume rights, filtered lists, changes in force at once.</summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class AclTests(SecureBrokerFixture fixture)
{
    [Fact]
    public async Task Producer_allowed_on_orders_cannot_produce_elsewhere_read_or_delete()
    {
        var (orders, payments) = (SecureBrokerFixture.Unique("orders"), SecureBrokerFixture.Unique("payments"));
        await fixture.CreateTopicAsync(orders);
        await fixture.CreateTopicAsync(payments);
        var principal = SecureBrokerFixture.Unique("producer");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        await fixture.GrantAsync(principal, AclOperation.Produce, AclResourceType.Topic, orders);

        var producer = new Producer.ProducerClient(channel);
        var stored = await producer.ProduceAsync(Produce(orders));
        Assert.Single(stored.Shards);

        AssertDenied(await Refusal(() => producer.ProduceAsync(Produce(payments)).ResponseAsync), principal, payments);
        AssertDenied(await Refusal(() => new Consumer.ConsumerClient(channel).PollAsync(Poll("billing", orders)).ResponseAsync), principal, "billing");
        AssertDenied(await Refusal(() => new Admin.AdminClient(channel).DeleteTopicAsync(new DeleteTopicRequest { Name = orders }).ResponseAsync), principal, orders);
    }

    [Fact]
    public async Task Consumer_allowed_in_group_billing_cannot_commit_in_group_audit()
    {
        var orders = SecureBrokerFixture.Unique("orders");
        var (billing, audit) = (SecureBrokerFixture.Unique("billing"), SecureBrokerFixture.Unique("audit"));
        await fixture.CreateTopicAsync(orders);
        await new Producer.ProducerClient(fixture.Admin).ProduceAsync(Produce(orders));
        var principal = SecureBrokerFixture.Unique("consumer");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Topic, orders);
        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Group, billing);

        var consumer = new Consumer.ConsumerClient(channel);
        // A new group's first answers may come before its table read reached the event.
        var polled = await consumer.PollAsync(Poll(billing, orders));
        for (var attempt = 0; polled.Events.Count == 0 && attempt < 10; attempt++)
        {
            var request = Poll(billing, orders);
            request.Subscription.MemberId = polled.MemberId;
            polled = await consumer.PollAsync(request);
        }
        Assert.NotEmpty(polled.Events);
        await consumer.CommitAsync(new CommitRequest { Group = billing, MemberId = polled.MemberId, Commits = { polled.Commits } });

        AssertDenied(await Refusal(() => consumer.CommitAsync(new CommitRequest { Group = audit, MemberId = polled.MemberId, Commits = { polled.Commits } }).ResponseAsync), principal, audit);
        AssertDenied(await Refusal(() => consumer.PollAsync(Poll(audit, orders)).ResponseAsync), principal, audit);
        AssertDenied(await Refusal(() => new Producer.ProducerClient(channel).ProduceAsync(Produce(orders)).ResponseAsync), principal, orders);
    }

    [Fact]
    public async Task Prefix_right_covers_names_under_it_and_deny_wins_over_allow()
    {
        var prefix = SecureBrokerFixture.Unique("shop") + ".";
        var (eu, secret, other) = (prefix + "eu", prefix + "secret", SecureBrokerFixture.Unique("shopx"));
        foreach (var topic in new[] { eu, secret, other })
        {
            await fixture.CreateTopicAsync(topic);
        }
        var principal = SecureBrokerFixture.Unique("prefixed");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        await fixture.GrantAsync(principal, AclOperation.Produce, AclResourceType.Topic, prefix, AclPatternType.Prefix);
        await fixture.GrantAsync(principal, AclOperation.Produce, AclResourceType.Topic, secret, permission: AclPermission.Deny);

        var producer = new Producer.ProducerClient(channel);
        await producer.ProduceAsync(Produce(eu));
        AssertDenied(await Refusal(() => producer.ProduceAsync(Produce(secret)).ResponseAsync), principal, secret);
        AssertDenied(await Refusal(() => producer.ProduceAsync(Produce(other)).ResponseAsync), principal, other);

        // A deny for every principal wins over this principal's allow too.
        await fixture.GrantAsync("*", AclOperation.Produce, AclResourceType.Topic, eu, permission: AclPermission.Deny);
        AssertDenied(await Refusal(() => producer.ProduceAsync(Produce(eu)).ResponseAsync), principal, eu);
    }

    [Fact]
    public async Task Subscription_pattern_needs_the_right_on_every_topic_it_may_match()
    {
        var prefix = SecureBrokerFixture.Unique("feed") + ".";
        await fixture.CreateTopicAsync(prefix + "a");
        var principal = SecureBrokerFixture.Unique("reader");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        var group = SecureBrokerFixture.Unique("readers");
        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Group, group);
        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Topic, prefix + "a");
        var consumer = new Consumer.ConsumerClient(channel);

        // A literal right on one topic does not cover a pattern.
        AssertDenied(await Refusal(() => consumer.PollAsync(Poll(group, prefix + "*")).ResponseAsync), principal, prefix + "*");

        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Topic, prefix, AclPatternType.Prefix);
        await consumer.PollAsync(Poll(group, prefix + "*"));

        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Topic, prefix + "hidden", permission: AclPermission.Deny);
        AssertDenied(await Refusal(() => consumer.PollAsync(Poll(group, prefix + "*")).ResponseAsync), principal, prefix + "*");
    }

    [Fact]
    public async Task Lists_and_describes_show_only_what_the_caller_may_describe()
    {
        var prefix = SecureBrokerFixture.Unique("vis") + ".";
        var (visible, hidden) = (prefix + "mine", SecureBrokerFixture.Unique("hidden"));
        await fixture.CreateTopicAsync(visible);
        await fixture.CreateTopicAsync(hidden);
        var (group, otherGroup) = (SecureBrokerFixture.Unique("seen"), SecureBrokerFixture.Unique("unseen"));
        await new Producer.ProducerClient(fixture.Admin).ProduceAsync(Produce(visible));
        foreach (var g in new[] { group, otherGroup })
        {
            var polled = await new Consumer.ConsumerClient(fixture.Admin).PollAsync(Poll(g, visible));
            await new Consumer.ConsumerClient(fixture.Admin).LeaveAsync(new LeaveRequest { Group = g, MemberId = polled.MemberId });
        }
        var principal = SecureBrokerFixture.Unique("viewer");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        await fixture.GrantAsync(principal, AclOperation.Describe, AclResourceType.Topic, prefix, AclPatternType.Prefix);
        // Consume on a group implies describe on it.
        await fixture.GrantAsync(principal, AclOperation.Consume, AclResourceType.Group, group);
        var admin = new Admin.AdminClient(channel);

        var topics = (await admin.ListTopicsAsync(new ListTopicsRequest())).Topics.Select(t => t.Name).ToList();
        Assert.Equal([visible], topics);
        Assert.Equal(visible, (await admin.DescribeTopicAsync(new DescribeTopicRequest { Name = visible })).Topic.Name);
        AssertDenied(await Refusal(() => admin.DescribeTopicAsync(new DescribeTopicRequest { Name = hidden }).ResponseAsync), principal, hidden);

        var groups = (await admin.ListGroupsAsync(new ListGroupsRequest())).Groups.Select(g => g.Group).ToList();
        Assert.Equal([group], groups);
        Assert.Equal(group, (await admin.DescribeGroupAsync(new DescribeGroupRequest { Group = group })).Group);
        AssertDenied(await Refusal(() => admin.DescribeGroupAsync(new DescribeGroupRequest { Group = otherGroup }).ResponseAsync), principal, otherGroup);
    }

    [Fact]
    public async Task Removing_an_acl_takes_the_right_away_at_once()
    {
        var topic = SecureBrokerFixture.Unique("brief");
        await fixture.CreateTopicAsync(topic);
        var principal = SecureBrokerFixture.Unique("temp");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        var acl = await fixture.GrantAsync(principal, AclOperation.Produce, AclResourceType.Topic, topic);
        var producer = new Producer.ProducerClient(channel);
        await producer.ProduceAsync(Produce(topic));

        var listed = await new SecurityClient(fixture.Admin).ListAclsAsync(new ListAclsRequest { Principal = principal });
        Assert.Equal([acl.AclId], listed.Acls.Select(a => a.AclId));
        await new SecurityClient(fixture.Admin).RemoveAclAsync(new RemoveAclRequest { AclId = acl.AclId });

        AssertDenied(await Refusal(() => producer.ProduceAsync(Produce(topic)).ResponseAsync), principal, topic);
    }

    [Fact]
    public async Task Security_admin_needs_admin_and_bad_acls_name_their_field()
    {
        var principal = SecureBrokerFixture.Unique("notadmin");
        using var channel = fixture.Broker.ChannelWith(await fixture.CreateKeyAsync(principal));
        var denied = await Refusal(() => new SecurityClient(channel).CreateApiKeyAsync(new CreateApiKeyRequest { Principal = principal }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var security = new SecurityClient(fixture.Admin);
        var bad = await Refusal(() => security.AddAclAsync(new AddAclRequest { Acl = new Acl { Principal = principal, ResourceType = AclResourceType.Topic, ResourceName = "orders" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("acl.operation", bad.Status.Detail);
        bad = await Refusal(() => security.AddAclAsync(new AddAclRequest { Acl = new Acl { Principal = principal, ResourceType = AclResourceType.Topic, Operation = AclOperation.Produce, ResourceName = "bad name" } }).ResponseAsync);
        Assert.Contains("acl.resource_name", bad.Status.Detail);
        bad = await Refusal(() => security.CreateApiKeyAsync(new CreateApiKeyRequest { Principal = "" }).ResponseAsync);
        Assert.Contains("principal", bad.Status.Detail);
        var missing = await Refusal(() => security.RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = "0123456789abcdef" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    internal static ProduceRequest Produce(string topic) => new() { Topic = topic, Events = { new EventData { Text = "hello" } } };

    internal static PollRequest Poll(string group, string topic) => new()
    {
        Subscription = new Subscription { Group = group, Topics = { topic }, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } },
        MaxWait = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
    };

    internal static async Task<RpcException> Refusal(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    private static void AssertDenied(RpcException refusal, string principal, string resource)
    {
        Assert.Equal(StatusCode.PermissionDenied, refusal.StatusCode);
        Assert.Contains(principal, refusal.Status.Detail);
        Assert.Contains(resource, refusal.Status.Detail);
    }

}
