using EventStream.Client;
using EventStream.Protocol.V1;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace EventStream.Cli.Connection;

/// <summary>
/// One gRPC channel to the chosen broker, shared by the SDK clients (given as their channel) and
/// the admin and health stubs a command uses.
/// </summary>
internal sealed class BrokerConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    public BrokerConnection(string address)
    {
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), EnableMultipleHttp2Connections = true },
        });
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
        var options = new EventStreamConsumerOptions { Channel = _channel };
        configure(options);
        return new EventStreamConsumer(options);
    }

    public void Dispose() => _channel.Dispose();
}
