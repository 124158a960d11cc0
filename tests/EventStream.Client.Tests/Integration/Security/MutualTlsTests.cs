using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Client.Tests.Integration.Security;

/// <summary>A broker on TLS that takes client certificates from its configured CA as principals.</summary>
public sealed class MutualTlsTests
{
    [Fact]
    public async Task Certificate_from_the_configured_ca_names_the_principal_and_another_is_refused()
    {
        var files = Directory.CreateTempSubdirectory("eventstream-mtls-").FullName;
        var data = Path.Combine("/tmp", "eventstream-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        try
        {
            using var authority = TestCredentials.CreateCertificateAuthority("clients-ca");
            using var stranger = TestCredentials.CreateCertificateAuthority("other-ca");
            using var server = TestCredentials.IssueCertificate(TestCredentials.CreateCertificateAuthority("server-ca"), "broker", server: true);
            var (serverCertificate, serverKey) = TestCredentials.WritePem(server, files, "server");
            var (caFile, _) = TestCredentials.WritePem(authority, files, "ca");
            File.Delete(Path.Combine(files, "ca.key"));
            var environment = new Dictionary<string, string>
            {
                ["EventStream__Embedded__DataDirectory"] = data,
                ["Kestrel__Certificates__Default__Path"] = serverCertificate,
                ["Kestrel__Certificates__Default__KeyPath"] = serverKey,
                ["EventStream__Security__MutualTls__Enabled"] = "true",
                ["EventStream__Security__MutualTls__CaCertificatePath"] = caFile,
                ["EventStream__Security__SuperUsers__0"] = "admin-client",
            };
            await using var broker = BrokerProcess.Start(environment, scheme: "https", channelOptions: new GrpcChannelOptions { HttpHandler = Handler(null) });
            await broker.WaitUntilServingAsync();

            using var admin = TestCredentials.IssueCertificate(authority, "admin-client");
            using var adminChannel = GrpcChannel.ForAddress(broker.Address, new GrpcChannelOptions { HttpHandler = Handler(admin) });
            var me = await new SecurityClient(adminChannel).WhoAmIAsync(new WhoAmIRequest());
            Assert.Equal(("admin-client", "certificate", true), (me.Principal, me.Mechanism, me.SuperUser));
            var topic = $"orders-{Guid.NewGuid():N}";
            await new Admin.AdminClient(adminChannel).CreateTopicAsync(new CreateTopicRequest { Name = topic });
            await new SecurityClient(adminChannel).AddAclAsync(new AddAclRequest
            {
                Acl = new Acl { Principal = "orders-client", Operation = AclOperation.Produce, ResourceType = AclResourceType.Topic, ResourceName = topic },
            });

            // The SDK presenting a certificate through its handler.
            using var client = TestCredentials.IssueCertificate(authority, "orders-client");
            await using (var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = broker.Address, HttpHandler = Handler(client) }))
            {
                Assert.True((await producer.ProduceAsync(topic, key: null, payload: "over mTLS")).EventId > 0);
            }

            using var foreign = TestCredentials.IssueCertificate(stranger, "admin-client");
            foreach (var presented in new[] { foreign, null })
            {
                using var channel = GrpcChannel.ForAddress(broker.Address, new GrpcChannelOptions { HttpHandler = Handler(presented) });
                var refused = await Assert.ThrowsAsync<RpcException>(() => new SecurityClient(channel).WhoAmIAsync(new WhoAmIRequest()).ResponseAsync);
                Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            }
        }
        finally
        {
            Directory.Delete(files, recursive: true);
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Trusts any broker certificate (the test's own), presenting <paramref name="certificate"/> when given.</summary>
    private static SocketsHttpHandler Handler(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        return handler;
    }
}
