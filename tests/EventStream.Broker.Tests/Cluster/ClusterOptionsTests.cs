using System.Net;
using EventStream.Broker.Cluster;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Tests.Cluster;

/// <summary>The broker's identity among brokers sharing a database, and the cluster settings.</summary>
public sealed class ClusterOptionsTests
{
    [Fact]
    public void Advertised_address_defaults_to_the_first_bound_address()
    {
        var identity = Identity(new ClusterOptions(), "http://127.0.0.1:7400", "http://127.0.0.1:7401");
        Assert.Equal("http://127.0.0.1:7400", identity.Address);
    }

    [Theory]
    [InlineData("http://[::]:7400")]
    [InlineData("http://0.0.0.0:7400")]
    [InlineData("http://*:7400")]
    [InlineData("http://+:7400")]
    public void A_wildcard_address_is_advertised_under_the_host_name(string bound)
    {
        Assert.Equal($"http://{Dns.GetHostName().ToLowerInvariant()}:7400", Identity(new ClusterOptions(), bound).Address.ToLowerInvariant());
    }

    [Fact]
    public void A_configured_address_wins_and_needs_no_listening_server()
    {
        var identity = Identity(new ClusterOptions { AdvertisedAddress = "https://broker-1.internal:7400/" });
        Assert.Equal("https://broker-1.internal:7400", identity.Address);
    }

    [Fact]
    public void Before_the_server_listens_there_is_no_address_to_advertise()
    {
        Assert.Throws<InvalidOperationException>(() => Identity(new ClusterOptions()).Address);
        Assert.Throws<InvalidOperationException>(() => Identity(new ClusterOptions(), "http://127.0.0.1:0").Address);
    }

    [Fact]
    public void Every_process_gets_its_own_broker_id()
    {
        Assert.NotEqual(Identity(new ClusterOptions()).Id, Identity(new ClusterOptions()).Id);
    }

    [Fact]
    public void Defaults_are_valid_and_renew_every_third_of_the_lease()
    {
        var options = new ClusterOptions();
        Assert.True(new ClusterOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(10), options.CoordinatorLeaseDuration);
        Assert.Equal(options.CoordinatorLeaseDuration / 3, options.RenewInterval);
    }

    [Theory]
    [InlineData("00:00:00.5", null, "CoordinatorLeaseDuration")]
    [InlineData("00:00:10", "broker-1:7400", "AdvertisedAddress")]
    [InlineData("00:00:10", "ftp://broker-1:7400", "AdvertisedAddress")]
    public void Unusable_settings_are_rejected_with_their_name(string duration, string? address, string setting)
    {
        var result = new ClusterOptionsValidator().Validate(null, new ClusterOptions
        {
            CoordinatorLeaseDuration = TimeSpan.Parse(duration, System.Globalization.CultureInfo.InvariantCulture),
            AdvertisedAddress = address,
        });
        Assert.True(result.Failed);
        Assert.Contains("EventStream:Cluster:" + setting, result.FailureMessage, StringComparison.Ordinal);
    }

    private static BrokerIdentity Identity(ClusterOptions options, params string[] bound)
    {
        var server = new BoundServer();
        foreach (var address in bound)
        {
            server.Addresses.Addresses.Add(address);
        }
        return new BrokerIdentity(Options.Create(options), server);
    }

    private sealed class BoundServer : IServer
    {
        public BoundServer() => Features.Set<IServerAddressesFeature>(Addresses);

        public ServerAddressesFeature Addresses { get; } = new();

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }

    private sealed class ServerAddressesFeature : IServerAddressesFeature
    {
        public ICollection<string> Addresses { get; } = [];

        public bool PreferHostingUrls { get; set; }
    }
}
