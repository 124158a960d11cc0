using System.IO.Compression;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Transport;

/// <summary>
/// The broker's gRPC hosting on ASP.NET Core: Kestrel serving HTTP/2 only, grpc-dotnet with the
/// broker's limits, failure mapping and gzip responses for clients that accept them, and server
/// reflection (v1 and v1alpha).
/// </summary>
internal static class GrpcTransport
{
    /// <summary>
    /// Adds grpc-dotnet with the limits of <c>EventStream:Grpc</c>, the stream limit and failure
    /// interceptors, and services bound with checked request parsing.
    /// </summary>
    public static IServiceCollection AddEventStreamGrpc(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GrpcLimits>().Bind(configuration.GetSection(GrpcLimits.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GrpcLimits>, GrpcLimits.Validator>();
        services.AddSingleton<CallFailures>();
        services.AddSingleton<FailureInterceptor>();
        services.AddSingleton<StreamLimitInterceptor>();
        services.AddGrpc(options =>
        {
            options.Interceptors.Add<StreamLimitInterceptor>();
            options.Interceptors.Add<FailureInterceptor>();
            // Compressed only when the client lists gzip in grpc-accept-encoding.
            options.ResponseCompressionAlgorithm = "gzip";
            options.ResponseCompressionLevel = CompressionLevel.Fastest;
        });
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<GrpcLimits>>((options, limits) =>
        {
            options.MaxReceiveMessageSize = limits.Value.MaxReceiveMessageSize;
            options.MaxSendMessageSize = limits.Value.MaxSendMessageSize;
        });
        services.AddGrpcReflection();
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ParsingServiceMethodProvider<>));
        return services;
    }

    /// <summary>
    /// Serves every endpoint over HTTP/2 only, as gRPC needs: h2c in cleartext (Http1AndHttp2 would
    /// serve only HTTP/1.1 without TLS), h2 by ALPN with TLS. Receive windows are generous for
    /// produce throughput; request bodies are bounded per message, not per call, as streams may
    /// carry any number of messages.
    /// </summary>
    public static IWebHostBuilder UseGrpcEndpoints(this IWebHostBuilder builder) =>
        builder.ConfigureKestrel((context, kestrel) =>
        {
            var limits = context.Configuration.GetSection(GrpcLimits.SectionName).Get<GrpcLimits>() ?? new GrpcLimits();
            // Room beside a connection's full streaming calls (StreamLimitInterceptor) for unary calls.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 2 * limits.MaxStreamsPerConnection;
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
            kestrel.Limits.MaxRequestBodySize = null;
        });
}
