using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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

    private sealed class BindFromConfiguration(IServiceProvider provider) : IConfigureOptions<EventStreamProducerOptions>
    {
        public void Configure(EventStreamProducerOptions options) =>
            provider.GetService<IConfiguration>()?.GetSection(EventStreamProducerOptions.ConfigurationSection).Bind(options);
    }
}
