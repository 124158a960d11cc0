using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Tests.Fakes;

/// <summary>A grpc-dotnet server on real Kestrel sockets (h2c on a loopback port) hosting <see cref="FakeProducerService"/>.</summary>
public sealed class FakeBroker : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeBroker(WebApplication app, string address)
    {
        _app = app;
        Address = address;
        Producer = app.Services.GetRequiredService<FakeProducerService>();
    }

    public FakeProducerService Producer { get; }

    public string Address { get; }

    public static async Task<FakeBroker> StartAsync(params string[] topics)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpc();
        // One instance for all calls, so tests can inspect and fault it.
        builder.Services.AddSingleton<FakeProducerService>();
        var app = builder.Build();
        app.MapGrpcService<FakeProducerService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var broker = new FakeBroker(app, address);
        foreach (var topic in topics)
        {
            broker.Producer.CreateTopic(topic);
        }
        return broker;
    }

    /// <summary>A producer for this broker with test-friendly timings, adjusted by <paramref name="configure"/>.</summary>
    public EventStreamProducer CreateProducer(Action<EventStreamProducerOptions>? configure = null)
    {
        var options = new EventStreamProducerOptions
        {
            Address = Address,
            Linger = TimeSpan.FromMilliseconds(5),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            MaxRetryBackoff = TimeSpan.FromMilliseconds(100),
            AttemptTimeout = TimeSpan.FromSeconds(10),
            DeliveryTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        return new EventStreamProducer(options);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
