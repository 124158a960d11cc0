using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace EventStream.Client.Transport;

/// <summary>
/// Opens the channels of a producer or consumer: to the configured broker, and (for consumers) to the
/// broker a redirect names. <see cref="OptionsConnector"/> builds them from the options;
/// <see cref="ClientFactoryConnector"/> takes them from the gRPC client factory.
/// </summary>
internal abstract class BrokerConnector(IList<Interceptor> interceptors)
{
    private readonly Interceptor[] _interceptors = [.. interceptors];

    /// <summary>The configured broker.</summary>
    public abstract BrokerChannel Connect();

    /// <summary>Another broker, named by a redirect, with the same settings.</summary>
    public abstract BrokerChannel Connect(Uri address);

    /// <summary>The options' interceptors around <paramref name="invoker"/>, the first in the list outermost.</summary>
    protected CallInvoker Intercept(CallInvoker invoker) => _interceptors.Length == 0 ? invoker : invoker.Intercept(_interceptors);
}

/// <summary>Channels from the options alone: the user's <see cref="GrpcChannel"/>, or ones the SDK creates and disposes.</summary>
internal sealed class OptionsConnector(TransportSettings settings) : BrokerConnector(settings.AllInterceptors)
{
    public override BrokerChannel Connect() => settings.Channel is { } channel
        ? new BrokerChannel(Intercept(channel.CreateCallInvoker()), channel.Target)
        : Create(new Uri(settings.Address, UriKind.Absolute), redirect: false);

    public override BrokerChannel Connect(Uri address) => Create(address, redirect: true);

    private BrokerChannel Create(Uri address, bool redirect)
    {
        var options = settings.ChannelOptions is { } configured ? ChannelSettings.Copy(configured) : new GrpcChannelOptions();
        ChannelSettings.ApplyDefaults(options);
        settings.ApplyCredentials(options);
        if (settings.HttpHandler is { } handler)
        {
            options.HttpHandler = handler;
            options.DisposeHttpClient = false;
        }
        else if (options.HttpHandler is null && options.HttpClient is null)
        {
            options.HttpHandler = settings.CreateDefaultHandler();
            options.DisposeHttpClient = true;
        }
        else if (redirect)
        {
            // The configured channel's handler (or HttpClient), shared: it stays with that channel.
            options.DisposeHttpClient = false;
        }
        var channel = GrpcChannel.ForAddress(address, options);
        return new BrokerChannel(Intercept(channel.CreateCallInvoker()), address, channel);
    }
}
