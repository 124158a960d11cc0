using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Transport;

/// <summary>
/// Channels from the gRPC client factory, for producers and consumers registered with
/// <c>AddEventStreamProducer</c> / <c>AddEventStreamConsumer</c>: the named client the registration added,
/// and for a redirect a client of its own named after the broker, configured like the registered one
/// (see <see cref="RedirectClients"/>). The factory owns these channels; disposing them here does nothing.
/// </summary>
internal sealed class ClientFactoryConnector : BrokerConnector
{
    private readonly GrpcClientFactory _factory;
    private readonly RedirectClients _redirects;
    private readonly string _name;
    private readonly Uri _address;

    private ClientFactoryConnector(IServiceProvider services, string name, TransportSettings settings)
        : base(settings.AllInterceptors)
    {
        _factory = services.GetRequiredService<GrpcClientFactory>();
        _redirects = services.GetRequiredService<RedirectClients>();
        _name = name;
        _address = services.GetRequiredService<IOptionsMonitor<GrpcClientFactoryOptions>>().Get(name).Address
            ?? throw new InvalidOperationException($"The gRPC client '{name}' has no address.");
    }

    /// <summary>
    /// The connector of a registered producer or consumer: the client factory's, unless the options
    /// name a channel of the user's, which then carries the calls.
    /// </summary>
    public static BrokerConnector For(IServiceProvider services, string name, TransportSettings settings) =>
        settings.Channel is null ? new ClientFactoryConnector(services, name, settings) : new OptionsConnector(settings);

    public override BrokerChannel Connect() =>
        new(Intercept(_factory.CreateClient<BrokerClient>(_name).Invoker), _address, owned: null);

    public override BrokerChannel Connect(Uri address)
    {
        var name = _redirects.Name(_name, address);
        return new BrokerChannel(Intercept(_factory.CreateClient<BrokerClient>(name).Invoker), address, owned: null);
    }
}
