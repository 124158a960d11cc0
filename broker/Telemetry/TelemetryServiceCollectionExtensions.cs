// Owns wiring OpenTelemetry into the broker: meters, sources, the Prometheus endpoint, OTLP export.
using EventStream.Broker.Health;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EventStream.Broker.Telemetry;

/// <summary>
/// Metrics of the broker's own meter, ASP.NET Core's and gRPC's server instruments and Npgsql's,
/// read by a Prometheus scrape endpoint (<see cref="TelemetryOptions.PrometheusUrl"/>) and pushed
/// over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; spans of the broker, ASP.NET Core and
/// Npgsql exported over OTLP under the same condition. The OTEL_* variables configure the exporter.
/// </summary>
internal static class TelemetryServiceCollectionExtensions
{
    private const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IServiceCollection AddEventStreamTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(TelemetryOptions.SectionName);
        services.AddOptions<TelemetryOptions>().Bind(section);
        services.AddSingleton<BrokerMetrics>();
        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var prometheus = options.PrometheusUri() is not null;
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]);
        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("eventstream-broker"));
        if (options.Metrics)
        {
            services.AddSingleton<DatabaseCollector>();
            services.AddHostedService(sp => sp.GetRequiredService<DatabaseCollector>());
            services.AddSingleton<HealthGauge>();
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter(BrokerMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Grpc.AspNetCore.Server")
                    .AddNpgsqlInstrumentation();
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }
        if (options.Tracing && otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(BrokerTracing.ProduceSourceName, BrokerTracing.DeliverySourceName, "Microsoft.AspNetCore")
                .AddNpgsql()
                .AddOtlpExporter());
        }
        return services;
    }

    /// <summary>
    /// Adds the scrape address to the server's addresses, served over HTTP/1.1 (Prometheus does not
    /// speak h2c); every other endpoint keeps HTTP/2 only, as <c>UseGrpcEndpoints</c> sets.
    /// </summary>
    public static IWebHostBuilder UseEventStreamScrapeEndpoint(this IWebHostBuilder builder, IConfiguration configuration)
    {
        var options = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Metrics || options.PrometheusUri() is not { } scrape)
        {
            return builder;
        }
        var urls = builder.GetSetting(WebHostDefaults.ServerUrlsKey);
        builder.UseSetting(WebHostDefaults.ServerUrlsKey, string.IsNullOrEmpty(urls) ? scrape.OriginalString : $"{urls};{scrape.OriginalString}");
        return builder.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
            listen.Protocols = listen.IPEndPoint?.Port == scrape.Port ? HttpProtocols.Http1 : HttpProtocols.Http2));
    }

    /// <summary>Serves <c>/metrics</c> on the scrape address only; resolves the gauges that need no caller.</summary>
    public static WebApplication MapEventStreamTelemetry(this WebApplication app)
    {
        var options = app.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Metrics)
        {
            return app;
        }
        _ = app.Services.GetRequiredService<HealthGauge>();
        if (options.PrometheusUri() is { } scrape)
        {
            app.MapPrometheusScrapingEndpoint().RequireHost($"*:{scrape.Port}");
        }
        return app;
    }
}
