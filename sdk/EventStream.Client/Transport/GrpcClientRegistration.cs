using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Transport;

/// <summary>
/// Registers the named gRPC client (a <see cref="BrokerClient"/>) through which a registered producer or
/// consumer calls its broker, with the SDK's defaults and the options' transport settings applied first,
/// so that what the application configures on the returned <see cref="IHttpClientBuilder"/> wins.
/// </summary>
internal static class GrpcClientRegistration
{
    /// <summary>
    /// Adds the client <paramref name="name"/> once (a repeated registration returns a builder for the same
    /// client): its address is the options' <c>Address</c>; its primary handler the options' <c>HttpHandler</c>,
    /// else the SDK's default handler; its channel settings the options' <c>ChannelOptions</c>, with no response
    /// compression unless they choose providers.
    /// </summary>
    public static IHttpClientBuilder Add(IServiceCollection services, string name, Func<IServiceProvider, TransportSettings> settings)
    {
        services.TryAddSingleton<RedirectClients>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<GrpcClientFactoryOptions>, RedirectClients>(
            static provider => provider.GetRequiredService<RedirectClients>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HttpClientFactoryOptions>, RedirectClients>(
            static provider => provider.GetRequiredService<RedirectClients>()));
        if (services.Any(d => d.ServiceType == typeof(Registered) && d.ImplementationInstance is Registered r && r.Name == name))
        {
            return services.AddHttpClient(name);
        }
        services.AddSingleton(new Registered(name));
        return services
            .AddGrpcClient<BrokerClient>(name, (provider, client) =>
                client.Address = Uri.TryCreate(settings(provider).Address, UriKind.Absolute, out var address) ? address : null)
            .ConfigurePrimaryHttpMessageHandler(provider => settings(provider).HttpHandler ?? settings(provider).CreateDefaultHandler())
            .ConfigureChannel((provider, channel) =>
            {
                if (settings(provider).ChannelOptions is { } configured)
                {
                    ChannelSettings.Overlay(configured, channel);
                }
                ChannelSettings.ApplyDefaults(channel);
                settings(provider).ApplyCredentials(channel);
            });
    }

    /// <summary>Marks a client name as registered by the SDK.</summary>
    private sealed record Registered(string Name);
}
