using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>The first admin: <c>create-api-key &lt;principal&gt; --admin</c> on the broker binary, and super users from configuration.</summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class BootstrapTests(SecureBrokerFixture fixture)
{
    [Fact]
    public async Task Bootstrapped_admin_key_has_every_right()
    {
        var security = new SecurityClient(fixture.Admin);
        var me = await security.WhoAmIAsync(new WhoAmIRequest());
        Assert.Equal(("admin", "api_key"), (me.Principal, me.Mechanism));
        var acls = await security.ListAclsAsync(new ListAclsRequest { Principal = "admin" });
        var admin = Assert.Single(acls.Acls);
        Assert.Equal((AclResourceType.Cluster, AclOperation.Admin, AclPermission.Allow), (admin.ResourceType, admin.Operation, admin.Permission));

        var topic = SecureBrokerFixture.Unique("boot");
        await fixture.CreateTopicAsync(topic);
        await new Admin.AdminClient(fixture.Admin).DeleteTopicAsync(new DeleteTopicRequest { Name = topic });
        var keys = await security.ListApiKeysAsync(new ListApiKeysRequest { Principal = "admin" });
        Assert.Equal("admin", Assert.Single(keys.Keys).Principal);
    }

    [Fact]
    public async Task Create_api_key_refuses_bad_arguments()
    {
        await using var command = ExternalProcess.Start("dotnet", [BrokerProcess.Dll, "create-api-key"], RepositoryPaths.Combine("broker"));
        await command.ReadAllJsonAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, command.ExitCode);
        Assert.Contains("usage: EventStream.Broker create-api-key <principal>", command.Output);
    }

    [Fact]
    public async Task Super_user_from_configuration_has_every_right_without_acls()
    {
        await using var broker = await SecureBroker.StartAsync(new Dictionary<string, string> { ["EventStream__Security__SuperUsers__0"] = "ops@example.test" });
        var options = SecureBroker.Bearer(broker.Credentials.Token("ops@example.test"));
        var me = await new SecurityClient(broker.Process.Channel).WhoAmIAsync(new WhoAmIRequest(), options);
        Assert.True(me.SuperUser);
        var created = await new SecurityClient(broker.Process.Channel).CreateApiKeyAsync(new CreateApiKeyRequest { Principal = "orders-service" }, options);
        Assert.StartsWith("esk_", created.Secret);

        var other = await Assert.ThrowsAsync<RpcException>(() => new SecurityClient(broker.Process.Channel)
            .CreateApiKeyAsync(new CreateApiKeyRequest { Principal = "x" }, SecureBroker.Bearer(broker.Credentials.Token("someone-else"))).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
    }
}
