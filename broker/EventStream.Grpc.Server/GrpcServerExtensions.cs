using EventStream.Grpc.Server.Health;
using EventStream.Grpc.Server.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventStream.Grpc.Server;

/// <summary>Registers the gRPC server with ASP.NET Core.</summary>
public static class GrpcServerExtensions
{
    /// <summary>Adds the gRPC server with health checking and reflection.</summary>
    public static IServiceCollection AddGrpcServer(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddSingleton<GrpcMethodRegistry>();
        services.TryAddSingleton<GrpcRequestDispatcher>();
        services.TryAddSingleton<HealthService>();
        services.AddSingleton<IGrpcService>(sp => sp.GetRequiredService<HealthService>());
        services.AddSingleton<IGrpcService, ReflectionService>();
        return services;
    }

    /// <summary>Adds a service implementation.</summary>
    public static IServiceCollection AddGrpcService<TService>(this IServiceCollection services)
        where TService : class, IGrpcService
    {
        services.TryAddSingleton<TService>();
        services.AddSingleton<IGrpcService>(sp => sp.GetRequiredService<TService>());
        return services;
    }

    /// <summary>Routes every <c>/service/method</c> path to the gRPC server.</summary>
    public static IEndpointConventionBuilder MapGrpcServer(this IEndpointRouteBuilder endpoints)
    {
        var dispatcher = endpoints.ServiceProvider.GetRequiredService<GrpcRequestDispatcher>();
        return endpoints.Map("/{service}/{method}", dispatcher.DispatchAsync);
    }

    /// <summary>Serves every endpoint over HTTP/2 only, as gRPC needs (h2c in cleartext, h2 by ALPN with TLS).</summary>
    public static IWebHostBuilder UseGrpcEndpoints(this IWebHostBuilder builder) =>
        builder.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
        });
}
