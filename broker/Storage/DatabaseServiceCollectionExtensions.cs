using EventStream.Broker.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventStream.Broker.Storage;

/// <summary>Registers the broker's database.</summary>
public static class DatabaseServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DatabaseEndpoint"/> as a singleton and hosted service, with its options
    /// bound from <paramref name="configuration"/>. Call it before adding services that use the
    /// database, so the host stops it after them.
    /// </summary>
    public static IServiceCollection AddEventStreamDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.SectionName));
        services.AddOptions<EmbeddedPostgresOptions>().Bind(configuration.GetSection(EmbeddedPostgresOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DatabaseEndpoint>();
        services.TryAddSingleton<ServerShutdowns>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseEndpoint>());
        return services;
    }
}
