using EventStream.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventStream.Grpc.Tests.Server;

/// <summary>Our gRPC server on real Kestrel sockets (h2c on a loopback port), hosting the echo service.</summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessServer(WebApplication app, EchoService echo, string address)
    {
        _app = app;
        Echo = echo;
        Address = address;
    }

    public EchoService Echo { get; }

    public string Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<InProcessServer> StartAsync(Action<GrpcServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0").UseGrpcEndpoints();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpcServer(configure).AddGrpcService<EchoService>();
        var app = builder.Build();
        app.MapGrpcServer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new InProcessServer(app, app.Services.GetRequiredService<EchoService>(), address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
