using EventStream.Client.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventStream.Client;

/// <summary>
/// Registers EventStream clients with a service collection. Each registration adds a named gRPC client of
/// the gRPC client factory (Grpc.Net.ClientFactory), through which the producer or consumer calls the broker;
/// configure it like any gRPC client, e.g. <c>.AddInterceptor&lt;T&gt;()</c>,
/// <c>.ConfigurePrimaryHttpMessageHandler(...)</c> or <c>.ConfigureChannel(...)</c>, through the
/// <c>configureClient</c> overloads or <c>services.AddHttpClient(name)</c> with <see cref="ProducerClientName"/>
/// or <see cref="ConsumerClientName{TService}"/>.
/// </summary>
/// <remarks>
/// The client starts from the SDK's defaults, then the options' transport settings
/// (<see cref="EventStreamProducerOptions.HttpHandler"/> as the primary handler,
/// <see cref="EventStreamProducerOptions.ChannelOptions"/> applied to the channel), then what the application
/// configures on the client, which wins. Its address is the options' <c>Address</c>. The options'
/// <c>Interceptors</c> wrap the client's calls, outside the client's own interceptors; a <c>Channel</c> set in
/// the options replaces the client. A consumer redirected to another broker calls it through a client named
/// <c>{client name}@{broker address}</c>, configured like the registered one. A producer sizes its batches by the
/// <see cref="Grpc.Net.Client.GrpcChannelOptions.MaxSendMessageSize"/> of the options' <c>ChannelOptions</c>: set a
/// smaller limit there rather than with <c>ConfigureChannel</c>, which the producer cannot see.
/// </remarks>
public static class EventStreamServiceCollectionExtensions
{
    /// <summary>The name of the gRPC client <see cref="AddEventStreamProducer(IServiceCollection, Action{EventStreamProducerOptions}?)"/> registers.</summary>
    public const string ProducerClientName = "EventStream.Producer";

    /// <summary>The name of the gRPC client <see cref="AddEventStreamConsumer{TService}(IServiceCollection, Action{EventStreamConsumerOptions}?)"/> registers: <c>EventStream.Consumer.</c> and the service's full type name.</summary>
    /// <typeparam name="TService">The consumer service.</typeparam>
    public static string ConsumerClientName<TService>()
        where TService : EventStreamConsumerService => "EventStream.Consumer." + typeof(TService).FullName;

    /// <summary>
    /// Registers one <see cref="EventStreamProducer"/> for the application, created on first use and
    /// disposed (flushed) with the container; dispose the container with <c>DisposeAsync</c>, as hosts do.
    /// </summary>
    /// <remarks>
    /// The options bind from the configuration section <see cref="EventStreamProducerOptions.ConfigurationSection"/>
    /// when an <see cref="IConfiguration"/> is registered (hosts register one), then
    /// <paramref name="configure"/> runs, so code wins over configuration. The producer calls the broker through
    /// the gRPC client <see cref="ProducerClientName"/> (see the class remarks).
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; optional.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamProducer(this IServiceCollection services, Action<EventStreamProducerOptions>? configure = null) =>
        AddEventStreamProducer(services, configure, static _ => { });

    /// <summary>
    /// Registers one <see cref="EventStreamProducer"/> for the application, as
    /// <see cref="AddEventStreamProducer(IServiceCollection, Action{EventStreamProducerOptions}?)"/> does, and
    /// configures the gRPC client it calls the broker through.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; optional.</param>
    /// <param name="configureClient">Configures the gRPC client, e.g. <c>client => client.AddInterceptor&lt;T&gt;()</c>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamProducer(this IServiceCollection services, Action<EventStreamProducerOptions>? configure,
        Action<IHttpClientBuilder> configureClient)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configureClient);
        services.AddOptions<EventStreamProducerOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<EventStreamProducerOptions>, BindFromConfiguration>());
        if (configure is not null)
        {
            services.Configure(configure);
        }
        configureClient(GrpcClientRegistration.Add(services, ProducerClientName,
            static provider => provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value.Transport));
        services.TryAddSingleton(provider => new EventStreamProducer(
            provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value,
            provider.GetService<ILoggerFactory>(),
            TimeProvider.System,
            transport => ClientFactoryConnector.For(provider, ProducerClientName, transport)));
        return services;
    }

    /// <summary>
    /// Registers a hosted consumer service: <typeparamref name="TService"/> is created by the container (so
    /// it can take dependencies), receives its <see cref="EventStreamConsumerOptions"/>, and consumes while
    /// the host runs.
    /// </summary>
    /// <remarks>
    /// The options are named after the service type (<c>typeof(TService).FullName</c>), so several consumer
    /// services can run side by side. They bind from the configuration section
    /// <see cref="EventStreamConsumerOptions.ConfigurationSection"/> when an <see cref="IConfiguration"/> is
    /// registered, then <paramref name="configure"/> runs, so code wins over configuration. Invalid options
    /// fail when the host starts the service. The consumer calls the broker through the gRPC client
    /// <see cref="ConsumerClientName{TService}"/> (see the class remarks).
    /// </remarks>
    /// <typeparam name="TService">The service, derived from <see cref="EventStreamConsumerService"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, e.g. the group and topics; optional.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamConsumer<TService>(this IServiceCollection services, Action<EventStreamConsumerOptions>? configure = null)
        where TService : EventStreamConsumerService =>
        AddEventStreamConsumer<TService>(services, configure, static _ => { });

    /// <summary>
    /// Registers a hosted consumer service, as <see cref="AddEventStreamConsumer{TService}(IServiceCollection, Action{EventStreamConsumerOptions}?)"/>
    /// does, and configures the gRPC client it calls the broker through.
    /// </summary>
    /// <typeparam name="TService">The service, derived from <see cref="EventStreamConsumerService"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, e.g. the group and topics; optional.</param>
    /// <param name="configureClient">Configures the gRPC client, e.g. <c>client => client.AddInterceptor&lt;T&gt;()</c>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamConsumer<TService>(this IServiceCollection services, Action<EventStreamConsumerOptions>? configure,
        Action<IHttpClientBuilder> configureClient)
        where TService : EventStreamConsumerService
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configureClient);
        var name = typeof(TService).FullName!;
        var clientName = ConsumerClientName<TService>();
        services.AddOptions<EventStreamConsumerOptions>(name);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<EventStreamConsumerOptions>, BindConsumerFromConfiguration>());
        if (configure is not null)
        {
            services.Configure(name, configure);
        }
        configureClient(GrpcClientRegistration.Add(services, clientName,
            provider => provider.GetRequiredService<IOptionsMonitor<EventStreamConsumerOptions>>().Get(name).Transport));
        services.TryAddSingleton<TService>();
        services.AddHostedService(provider =>
        {
            var service = provider.GetRequiredService<TService>();
            service.Configure(provider.GetRequiredService<IOptionsMonitor<EventStreamConsumerOptions>>().Get(name), provider.GetService<ILoggerFactory>(),
                transport => ClientFactoryConnector.For(provider, clientName, transport));
            return service;
        });
        return services;
    }

    private sealed class BindFromConfiguration(IServiceProvider provider) : IConfigureOptions<EventStreamProducerOptions>
    {
        public void Configure(EventStreamProducerOptions options) =>
            provider.GetService<IConfiguration>()?.GetSection(EventStreamProducerOptions.ConfigurationSection).Bind(options);
    }

    /// <summary>Binds every consumer's options (whatever its name) from the one section.</summary>
    private sealed class BindConsumerFromConfiguration(IServiceProvider provider) : IConfigureNamedOptions<EventStreamConsumerOptions>
    {
        public void Configure(string? name, EventStreamConsumerOptions options) =>
            provider.GetService<IConfiguration>()?.GetSection(EventStreamConsumerOptions.ConfigurationSection).Bind(options);

        public void Configure(EventStreamConsumerOptions options) => Configure(Options.DefaultName, options);
    }
}
