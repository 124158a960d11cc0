using System.IO.Compression;
using EventStream.Client.Tests.Fakes;
using EventStream.Client.Transport;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Compression;

namespace EventStream.Client.Tests.Transport;

/// <summary>The SDK's channel defaults, and copies of the user's channel settings.</summary>
public sealed class ChannelSettingsTests
{
    [Fact]
    public void The_default_handler_keeps_connections_alive_and_opens_more_when_one_is_full()
    {
        using var handler = ChannelSettings.CreateDefaultHandler();
        Assert.True(handler.EnableMultipleHttp2Connections);
        Assert.Equal(TimeSpan.FromSeconds(60), handler.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), handler.KeepAlivePingTimeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, handler.PooledConnectionIdleTimeout);
    }

    [Fact]
    public void No_compression_providers_means_none_but_chosen_ones_stay()
    {
        var unset = new GrpcChannelOptions();
        ChannelSettings.ApplyDefaults(unset);
        Assert.Empty(unset.CompressionProviders!);

        var gzip = new List<ICompressionProvider> { new GzipCompressionProvider(CompressionLevel.Fastest) };
        var chosen = new GrpcChannelOptions { CompressionProviders = gzip };
        ChannelSettings.ApplyDefaults(chosen);
        Assert.Same(gzip, chosen.CompressionProviders);
    }

    [Fact]
    public void A_copy_has_every_setting_of_the_original()
    {
        using var handler = new CountingHandler();
        var source = new GrpcChannelOptions
        {
            MaxSendMessageSize = 1234,
            MaxReceiveMessageSize = 5678,
            MaxRetryAttempts = 7,
            CompressionProviders = [],
            HttpHandler = handler,
            DisposeHttpClient = true,
            ThrowOperationCanceledOnCancellation = true,
            Credentials = ChannelCredentials.Insecure,
        };

        var copy = ChannelSettings.Copy(source);

        Assert.NotSame(source, copy);
        foreach (var setting in typeof(GrpcChannelOptions).GetProperties().Where(p => p.CanRead && p.CanWrite))
        {
            Assert.Equal(setting.GetValue(source), setting.GetValue(copy));
        }
    }

    [Fact]
    public void An_overlay_keeps_the_factorys_handler_unless_the_user_set_one()
    {
        using var factoryHandler = new CountingHandler();
        using var userHandler = new CountingHandler();
        var target = new GrpcChannelOptions { HttpHandler = factoryHandler };

        ChannelSettings.Overlay(new GrpcChannelOptions { MaxReceiveMessageSize = 99 }, target);
        Assert.Same(factoryHandler, target.HttpHandler);
        Assert.Equal(99, target.MaxReceiveMessageSize);

        ChannelSettings.Overlay(new GrpcChannelOptions { HttpHandler = userHandler }, target);
        Assert.Same(userHandler, target.HttpHandler);
    }
}
