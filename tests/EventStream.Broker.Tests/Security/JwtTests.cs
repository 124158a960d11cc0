using System.Security.Cryptography;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>JWT bearer tokens signed by a test key whose JWKS file the broker reads.</summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class JwtTests(SecureBrokerFixture fixture)
{
    [Fact]
    public async Task Token_signed_by_the_configured_key_names_its_subject_and_obeys_its_acls()
    {
        var subject = SecureBrokerFixture.Unique("svc");
        var topic = SecureBrokerFixture.Unique("jwt-orders");
        await fixture.CreateTopicAsync(topic);
        await fixture.GrantAsync(subject, AclOperation.Produce, AclResourceType.Topic, topic);
        var options = SecureBroker.Bearer(fixture.Broker.Credentials.Token(subject));

        var me = await new SecurityClient(fixture.Broker.Process.Channel).WhoAmIAsync(new WhoAmIRequest(), options);
        Assert.Equal((subject, "jwt"), (me.Principal, me.Mechanism));
        await new Producer.ProducerClient(fixture.Broker.Process.Channel).ProduceAsync(AclTests.Produce(topic), options);
        var denied = await AclTests.Refusal(() => new Admin.AdminClient(fixture.Broker.Process.Channel)
            .DeleteTopicAsync(new DeleteTopicRequest { Name = topic }, options).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    [Fact]
    public async Task Expired_wrong_audience_wrong_issuer_and_foreign_key_tokens_are_refused()
    {
        var credentials = fixture.Broker.Credentials;
        using var foreignKey = RSA.Create(2048);
        var refused = new Dictionary<string, string>
        {
            ["expired"] = credentials.Token("svc", expiresIn: TimeSpan.FromMinutes(-10)),
            ["wrong audience"] = credentials.Token("svc", audience: "another-service"),
            ["wrong issuer"] = credentials.Token("svc", issuer: "https://elsewhere.test"),
            ["foreign key"] = credentials.Token("svc", signWith: foreignKey),
        };
        foreach (var (what, token) in refused)
        {
            var refusal = await AclTests.Refusal(() => new SecurityClient(fixture.Broker.Process.Channel)
                .WhoAmIAsync(new WhoAmIRequest(), SecureBroker.Bearer(token)).ResponseAsync);
            Assert.True(refusal.StatusCode == StatusCode.Unauthenticated, $"{what}: {refusal.Status}");
        }
    }
}
