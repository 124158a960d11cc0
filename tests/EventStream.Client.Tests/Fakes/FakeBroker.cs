using EventStream.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Tests.Fakes;

/// <summary>Our gRPC server on real Kestrel sockets (h2c on a loopback port) hosting <see cref="FakeProducerService"/>.</summary>
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
        builder.WebHost.UseUrls("http://127.0.0.1:0").UseGrpcEndpoints();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpcServer().AddGrpcService<FakeProducerService>();
        var app = builder.Build();
        app.MapGrpcServer();
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
