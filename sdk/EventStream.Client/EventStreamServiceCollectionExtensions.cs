using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventStream.Client;

/// <summary>Registers EventStream clients with a service collection.</summary>
public static class EventStreamServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="EventStreamProducer"/> for the application, created on first use and
    /// disposed (flushed) with the container; dispose the container with <c>DisposeAsync</c>, as hosts do.
    /// </summary>
    /// <remarks>
    /// The options bind from the configuration section <see cref="EventStreamProducerOptions.ConfigurationSection"/>
    /// when an <see cref="IConfiguration"/> is registered (hosts register one), then
    /// <paramref name="configure"/> runs, so code wins over configuration.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; optional.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamProducer(this IServiceCollection services, Action<EventStreamProducerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<EventStreamProducerOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<EventStreamProducerOptions>, BindFromConfiguration>());
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddSingleton(provider => new EventStreamProducer(
            provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
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
    /// fail when the host starts the service.
    /// </remarks>
    /// <typeparam name="TService">The service, derived from <see cref="EventStreamConsumerService"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, e.g. the group and topics; optional.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEventStreamConsumer<TService>(this IServiceCollection services, Action<EventStreamConsumerOptions>? configure = null)
        where TService : EventStreamConsumerService
    {
        ArgumentNullException.ThrowIfNull(services);
        var name = typeof(TService).FullName!;
        services.AddOptions<EventStreamConsumerOptions>(name);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<EventStreamConsumerOptions>, BindConsumerFromConfiguration>());
        if (configure is not null)
        {
            services.Configure(name, configure);
        }
        services.TryAddSingleton<TService>();
        services.AddHostedService(provider =>
        {
            var service = provider.GetRequiredService<TService>();
            service.Configure(provider.GetRequiredService<IOptionsMonitor<EventStreamConsumerOptions>>().Get(name), provider.GetService<ILoggerFactory>());
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
