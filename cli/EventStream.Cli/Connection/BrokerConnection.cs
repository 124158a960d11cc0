using System.Security.Cryptography.X509Certificates;
using EventStream.Cli.Failures;
using EventStream.Client;
using EventStream.Protocol.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace EventStream.Cli.Connection;

/// <summary>
/// One gRPC channel to the chosen broker, carrying the caller's credentials on every call, shared
/// by the reader, the producer and the admin and health stubs a command uses. A group member gets
/// its own channel with the same credentials from the SDK, which also follows its redirects.
/// </summary>
internal sealed class BrokerConnection : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly EventStreamCredentials? _credentials;

    public BrokerConnection(ConnectionSettings settings)
    {
        Address = settings.Address;
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), EnableMultipleHttp2Connections = true };
        X509Certificate2? clientCertificate = null;
        if (settings.CertificateFile is { } certificate)
        {
            clientCertificate = LoadCertificate(certificate, settings.CertificateKeyFile);
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }
        _credentials = settings.ApiKey is { } apiKey ? EventStreamCredentials.FromApiKey(apiKey)
            : settings.Token is { } token ? EventStreamCredentials.FromTokenProvider(_ => ValueTask.FromResult(token))
            : settings is { User: { } user, Password: { } password } ? EventStreamCredentials.FromPassword(user, password)
            : clientCertificate is not null ? EventStreamCredentials.FromClientCertificate(clientCertificate)
            : null;
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024, HttpHandler = handler };
        if (settings.Authorization is { } authorization)
        {
            var http = Address.StartsWith("http://", StringComparison.Ordinal);
            options.Credentials = ChannelCredentials.Create(http ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl,
                CallCredentials.FromInterceptor((_, metadata) =>
                {
                    metadata.Add("authorization", authorization);
                    return Task.CompletedTask;
                }));
            // The broker decides whether it takes credentials in cleartext (on loopback, typically).
            options.UnsafeUseInsecureChannelCallCredentials = http;
        }
        _channel = GrpcChannel.ForAddress(Address, options);
    }

    public string Address { get; }

    public Admin.AdminClient Admin => new(_channel);

    public Health.HealthClient Health => new(_channel);

    /// <summary>Admin calls wait this long at most: a broker that accepts connections but never answers is unavailable.</summary>
    public static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    public EventStreamReader CreateReader() => new(new EventStreamReaderOptions { Channel = _channel });

    public EventStreamProducer CreateProducer() => new(new EventStreamProducerOptions { Channel = _channel });

    public EventStreamConsumer CreateConsumer(Action<EventStreamConsumerOptions> configure)
    {
        var options = new EventStreamConsumerOptions { Address = Address, Credentials = _credentials };
        configure(options);
        return new EventStreamConsumer(options);
    }

    public void Dispose() => _channel.Dispose();

    private static X509Certificate2 LoadCertificate(string certificate, string? key)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new CliException($"--cert: cannot load {certificate}{(key is null ? "" : " with " + key)}: {e.Message}");
        }
    }
}
