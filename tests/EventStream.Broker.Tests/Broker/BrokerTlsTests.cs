using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Grpc.Health.V1;
using EventStream.Testing;

namespace EventStream.Broker.Tests.Broker;

public sealed class BrokerTlsTests
{
    [Fact]
    public async Task Configured_certificate_serves_grpc_over_tls()
    {
        using var directory = new TestDirectory();
        using var certificates = new TestDirectory();
        using var certificate = CreateCertificate();
        var certPath = Path.Combine(certificates.Path, "broker.crt");
        var keyPath = Path.Combine(certificates.Path, "broker.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        var environment = new Dictionary<string, string>
        {
            ["EventStream__Embedded__DataDirectory"] = directory.Path,
            ["Kestrel__Certificates__Default__Path"] = certPath,
            ["Kestrel__Certificates__Default__KeyPath"] = keyPath,
        };
        await using var broker = BrokerProcess.Start(environment, scheme: "https", channelOptions: new GrpcChannelOptions { HttpHandler = handler });
        await broker.WaitUntilServingAsync();

        var response = await new Grpc.Health.V1.Health.HealthClient(broker.Channel).CheckAsync(new HealthCheckRequest()).ResponseAsync;
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=eventstream-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
