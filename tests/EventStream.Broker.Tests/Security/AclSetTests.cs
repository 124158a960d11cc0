using EventStream.Broker.Security;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Tests.Security;

/// <summary>ACL decisions without a broker: literal, prefix, deny wins, implied rights, patterns.</summary>
public sealed class AclSetTests
{
    private static AclEntry Entry(string principal, AclOperation operation, AclResourceType type, string name,
        AclPatternType pattern = AclPatternType.Literal, AclPermission permission = AclPermission.Allow) =>
        new(0, principal, type, pattern, name, operation, permission, default);

    [Fact]
    public void Literal_allows_only_its_name_and_principal()
    {
        var acls = new AclSet([Entry("p", AclOperation.Produce, AclResourceType.Topic, "orders")], []);
        Assert.True(acls.IsAllowed("p", AclOperation.Produce, AclResourceType.Topic, "orders"));
        Assert.False(acls.IsAllowed("p", AclOperation.Produce, AclResourceType.Topic, "orders2"));
        Assert.False(acls.IsAllowed("q", AclOperation.Produce, AclResourceType.Topic, "orders"));
        Assert.False(acls.IsAllowed("p", AclOperation.Consume, AclResourceType.Topic, "orders"));
        Assert.False(acls.IsAllowed("p", AclOperation.Produce, AclResourceType.Group, "orders"));
        // Describe comes with any other right on the resource.
        Assert.True(acls.IsAllowed("p", AclOperation.Describe, AclResourceType.Topic, "orders"));
    }

    [Fact]
    public void Deny_wins_over_allow_including_for_every_principal()
    {
        var acls = new AclSet(
        [
            Entry("*", AclOperation.Consume, AclResourceType.Topic, "", AclPatternType.Prefix),
            Entry("p", AclOperation.Consume, AclResourceType.Topic, "audit.", AclPatternType.Prefix, AclPermission.Deny),
            Entry("*", AclOperation.Consume, AclResourceType.Topic, "secret", permission: AclPermission.Deny),
        ], []);
        Assert.True(acls.IsAllowed("q", AclOperation.Consume, AclResourceType.Topic, "audit.log"));
        Assert.False(acls.IsAllowed("p", AclOperation.Consume, AclResourceType.Topic, "audit.log"));
        Assert.False(acls.IsAllowed("q", AclOperation.Consume, AclResourceType.Topic, "secret"));
    }

    [Fact]
    public void Cluster_admin_and_super_users_have_every_right_but_deny_still_wins()
    {
        var acls = new AclSet(
        [
            Entry("root", AclOperation.Admin, AclResourceType.Cluster, ""),
            Entry("root", AclOperation.Delete, AclResourceType.Topic, "keep", permission: AclPermission.Deny),
        ], ["ops"]);
        Assert.True(acls.IsAllowed("root", AclOperation.Delete, AclResourceType.Topic, "any"));
        Assert.False(acls.IsAllowed("root", AclOperation.Delete, AclResourceType.Topic, "keep"));
        Assert.True(acls.IsAllowed("ops", AclOperation.Admin, AclResourceType.Cluster, ""));
        Assert.True(acls.IsSuperUser("ops"));
    }

    [Fact]
    public void Pattern_needs_a_prefix_right_covering_it_and_no_deny_inside_it()
    {
        var acls = new AclSet(
        [
            Entry("p", AclOperation.Consume, AclResourceType.Topic, "orders.", AclPatternType.Prefix),
            Entry("p", AclOperation.Consume, AclResourceType.Topic, "orders.eu"),
            Entry("p", AclOperation.Consume, AclResourceType.Topic, "orders.eu.secret", permission: AclPermission.Deny),
        ], []);
        Assert.True(acls.IsAllowed("p", AclOperation.Consume, AclResourceType.Topic, "orders.us", isPrefix: true));
        Assert.False(acls.IsAllowed("p", AclOperation.Consume, AclResourceType.Topic, "orders", isPrefix: true));
        Assert.False(acls.IsAllowed("p", AclOperation.Consume, AclResourceType.Topic, "orders.eu", isPrefix: true));
    }
}
