using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Maintenance;

/// <summary>Registers retention and partition maintenance.</summary>
public static class MaintenanceServiceCollectionExtensions
{
    /// <summary>
    /// Adds the maintenance hosted service with its options bound from
    /// <paramref name="configuration"/> and validated at start. Call it after
    /// <c>AddEventStreamDatabase</c>.
    /// </summary>
    public static IServiceCollection AddEventStreamMaintenance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MaintenanceOptions>()
            .Bind(configuration.GetSection(MaintenanceOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MaintenanceOptions>, MaintenanceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<MaintenanceService>();
        return services;
    }
}
