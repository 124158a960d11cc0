using System.Collections.Concurrent;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Transport;

/// <summary>
/// gRPC clients for the brokers a registered consumer is redirected to. Each is a named client of the
/// client factory (<c>{registered name}@{broker}</c>) whose options are those of the registered client,
/// copied once everything configured it, with the broker's address: the same handler, channel settings,
/// interceptors and call options. The factory keeps one channel per name for the container's lifetime.
/// </summary>
internal sealed class RedirectClients(IServiceProvider services)
    : IPostConfigureOptions<GrpcClientFactoryOptions>, IPostConfigureOptions<HttpClientFactoryOptions>
{
    private readonly ConcurrentDictionary<string, (string Registered, Uri Address)> _names = new(StringComparer.Ordinal);

    /// <summary>The client name for <paramref name="address"/>, on behalf of the client named <paramref name="registered"/>.</summary>
    public string Name(string registered, Uri address)
    {
        var broker = new Uri(address.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped));
        var name = registered + "@" + broker;
        _names.TryAdd(name, (registered, broker));
        return name;
    }

    public void PostConfigure(string? name, GrpcClientFactoryOptions options)
    {
        if (name is null || !_names.TryGetValue(name, out var redirect))
        {
            return;
        }
        var registered = services.GetRequiredService<IOptionsMonitor<GrpcClientFactoryOptions>>().Get(redirect.Registered);
        options.Address = redirect.Address;
        options.Creator = registered.Creator;
        Replace(options.ChannelOptionsActions, registered.ChannelOptionsActions);
        Replace(options.CallOptionsActions, registered.CallOptionsActions);
        Replace(options.InterceptorRegistrations, registered.InterceptorRegistrations);
#pragma warning disable CS0618 // Interceptors is obsolete, but still applied by the factory.
        Replace(options.Interceptors, registered.Interceptors);
#pragma warning restore CS0618
    }

    public void PostConfigure(string? name, HttpClientFactoryOptions options)
    {
        if (name is null || !_names.TryGetValue(name, out var redirect))
        {
            return;
        }
        var registered = services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(redirect.Registered);
        options.HandlerLifetime = registered.HandlerLifetime;
        options.ShouldRedactHeaderValue = registered.ShouldRedactHeaderValue;
        options.SuppressHandlerScope = registered.SuppressHandlerScope;
        Replace(options.HttpMessageHandlerBuilderActions, registered.HttpMessageHandlerBuilderActions);
        Replace(options.HttpClientActions, registered.HttpClientActions);
    }

    // Cleared first: defaults configured for every client (ConfigureHttpClientDefaults) are in the copy already.
    private static void Replace<T>(IList<T> target, IList<T> source)
    {
        target.Clear();
        foreach (var item in source)
        {
            target.Add(item);
        }
    }
}
