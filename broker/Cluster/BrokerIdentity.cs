using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Cluster;

/// <summary>Who this broker process is among the brokers sharing its database: a random id and the address clients reach it at.</summary>
internal sealed class BrokerIdentity(IOptions<ClusterOptions> options, IServer server)
{
    private string? _address;

    /// <summary>New for every process, so a restarted broker never mistakes its predecessor's leases for its own.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// <see cref="ClusterOptions.AdvertisedAddress"/>, or the first address Kestrel is bound to (known once it listens).
    /// </summary>
    /// <exception cref="InvalidOperationException">The server is not listening yet and no address is configured.</exception>
    public string Address => _address ??= Resolve();

    public static bool IsValidAddress(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>A bound address as clients can use it: a wildcard host becomes the machine's host name.</summary>
    internal static string Advertise(string bound)
    {
        var uri = Parse(bound);
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            return new UriBuilder(uri) { Host = Dns.GetHostName() }.Uri.GetLeftPart(UriPartial.Authority);
        }
        return uri.GetLeftPart(UriPartial.Authority);
    }

    private string Resolve()
    {
        if (options.Value.AdvertisedAddress is { Length: > 0 } configured)
        {
            return configured.TrimEnd('/');
        }
        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (bound is null || Parse(bound).Port == 0)
        {
            throw new InvalidOperationException("The broker does not listen yet; set EventStream:Cluster:AdvertisedAddress or wait until it started.");
        }
        return Advertise(bound);
    }

    // Kestrel reports wildcards as http://[::]:7400 or http://0.0.0.0:7400; configured ones may read * or +.
    private static Uri Parse(string bound) =>
        new(bound.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute);
}
