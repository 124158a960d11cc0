using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using EventStream.Testing;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Client.Tests.Integration.Security;

/// <summary>The SDK's credentials against a broker with API keys and JWTs on, and its refusals as EventStreamException reasons.</summary>
public sealed class CredentialsTests : IAsyncLifetime
{
    private SecureBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await SecureBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Producer_key_allowed_on_orders_produces_there_and_is_denied_elsewhere()
    {
        var (orders, payments) = await CreateTopicsAsync("orders", "payments");
        var key = await CreateKeyAsync("orders-producer", (AclOperation.Produce, AclResourceType.Topic, orders));
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions
        {
            Address = _broker.Process.Address,
            Credentials = EventStreamCredentials.FromApiKey(key),
        });

        var delivered = await producer.ProduceAsync(orders, key: "customer-1", payload: "{}");
        Assert.True(delivered.EventId > 0);
        var denied = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync(payments, key: null, payload: "{}"));
        Assert.Equal(EventStreamErrorReason.PermissionDenied, denied.Reason);
        Assert.False(denied.IsTransient);
        Assert.Contains(payments, denied.Message);
    }

    [Fact]
    public async Task Producer_without_credentials_or_with_a_bad_key_is_unauthenticated()
    {
        var (orders, _) = await CreateTopicsAsync("orders", "unused");
        foreach (var credentials in new[] { null, EventStreamCredentials.FromApiKey("esk_0123456789abcdef_wrong"), EventStreamCredentials.FromPassword("admin", "not-the-key") })
        {
            await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = _broker.Process.Address, Credentials = credentials });
            var refused = await Assert.ThrowsAsync<EventStreamException>(() => producer.ProduceAsync(orders, key: null, payload: "{}"));
            Assert.Equal(EventStreamErrorReason.Unauthenticated, refused.Reason);
            Assert.False(refused.IsTransient);
        }
    }

    [Fact]
    public async Task Consumer_key_reads_orders_in_billing_and_is_denied_in_audit()
    {
        var (orders, _) = await CreateTopicsAsync("orders", "unused");
        var (billing, audit) = ($"billing-{Guid.NewGuid():N}", $"audit-{Guid.NewGuid():N}");
        var key = await CreateKeyAsync("billing-consumer",
            (AclOperation.Consume, AclResourceType.Topic, orders), (AclOperation.Consume, AclResourceType.Group, billing));
        await using (var producer = new EventStreamProducer(new EventStreamProducerOptions
        {
            Address = _broker.Process.Address,
            Credentials = EventStreamCredentials.FromApiKey(_broker.AdminKey),
        }))
        {
            await producer.ProduceAsync(orders, key: "k", payload: "paid");
        }

        await using (var consumer = new EventStreamConsumer(Consumer(billing, orders, EventStreamCredentials.FromPassword("billing-consumer", key))))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var e in consumer.ConsumeAsync(timeout.Token))
            {
                Assert.Equal("paid", e.GetPayloadString());
                break;
            }
        }

        await using var denied = new EventStreamConsumer(Consumer(audit, orders, EventStreamCredentials.FromApiKey(key)));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var refusal = await Assert.ThrowsAsync<EventStreamException>(async () =>
        {
            await foreach (var _ in denied.ConsumeAsync(wait.Token))
            {
            }
        });
        Assert.Equal(EventStreamErrorReason.PermissionDenied, refusal.Reason);
    }

    [Fact]
    public async Task Token_provider_is_asked_for_a_fresh_token_on_calls()
    {
        var (orders, _) = await CreateTopicsAsync("orders", "unused");
        await GrantAsync("jwt-service", (AclOperation.Produce, AclResourceType.Topic, orders));
        var asked = 0;
        await using var producer = new EventStreamProducer(new EventStreamProducerOptions
        {
            Address = _broker.Process.Address,
            Credentials = EventStreamCredentials.FromTokenProvider(_ =>
            {
                Interlocked.Increment(ref asked);
                return ValueTask.FromResult(_broker.Credentials.Token("jwt-service", expiresIn: TimeSpan.FromMinutes(5)));
            }),
        });
        await producer.ProduceAsync(orders, key: null, payload: "one");
        await producer.ProduceAsync(orders, key: null, payload: "two");
        Assert.True(asked >= 1);
    }

    [Fact]
    public void Client_certificate_is_presented_by_the_sdk_handler_and_refused_with_a_handler_of_ones_own()
    {
        using var authority = TestCredentials.CreateCertificateAuthority("sdk-ca");
        using var certificate = TestCredentials.IssueCertificate(authority, "sdk-client");
        var credentials = EventStreamCredentials.FromClientCertificate(certificate);
        var options = new EventStreamProducerOptions { Address = "https://127.0.0.1:7400", Credentials = credentials };
        using var handler = options.Transport.CreateDefaultHandler();
        Assert.Same(certificate, Assert.Single(handler.SslOptions.ClientCertificates!));

        using var own = new SocketsHttpHandler();
        options.HttpHandler = own;
        var wrong = Assert.Throws<ArgumentException>(() => options.Transport.Validate());
        Assert.Equal("Credentials", wrong.ParamName);
    }

    private EventStreamConsumerOptions Consumer(string group, string topic, EventStreamCredentials credentials) => new()
    {
        Address = _broker.Process.Address,
        Group = group,
        Topics = { topic },
        StartPosition = StartPosition.Earliest,
        Credentials = credentials,
    };

    private async Task<(string, string)> CreateTopicsAsync(string first, string second)
    {
        using var admin = _broker.ChannelWith(_broker.AdminKey);
        var names = (first: $"{first}-{Guid.NewGuid():N}", second: $"{second}-{Guid.NewGuid():N}");
        foreach (var name in new[] { names.first, names.second })
        {
            await new Admin.AdminClient(admin).CreateTopicAsync(new CreateTopicRequest { Name = name });
        }
        return names;
    }

    private async Task<string> CreateKeyAsync(string principal, params (AclOperation, AclResourceType, string)[] rights)
    {
        using var admin = _broker.ChannelWith(_broker.AdminKey);
        var key = (await new SecurityClient(admin).CreateApiKeyAsync(new CreateApiKeyRequest { Principal = principal })).Secret;
        await GrantAsync(principal, rights);
        return key;
    }

    private async Task GrantAsync(string principal, params (AclOperation Operation, AclResourceType Type, string Name)[] rights)
    {
        using var admin = _broker.ChannelWith(_broker.AdminKey);
        foreach (var right in rights)
        {
            await new SecurityClient(admin).AddAclAsync(new AddAclRequest
            {
                Acl = new Acl { Principal = principal, Operation = right.Operation, ResourceType = right.Type, ResourceName = right.Name },
            });
        }
    }
}
