using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Cluster;

/// <summary>
/// Who this broker is among the brokers sharing its database: its id and the address clients reach
/// it at. The id is configured, or kept in <paramref name="idFile"/> (the embedded data directory's),
/// or new for every process; a stable id lets a restarted broker take back its own leases.
/// </summary>
internal sealed partial class BrokerIdentity(IOptions<ClusterOptions> options, IServer server, string? idFile = null)
{
    private readonly Lazy<string> _id = new(() => options.Value.BrokerId ?? (idFile is null ? NewId() : ReadOrCreate(idFile)));
    private string? _address;

    /// <summary>The configured id, the one kept in the data directory, or one new for this process.</summary>
    public string Id => _id.Value;

    public static bool IsValidId(string id) => ValidId().IsMatch(id);

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

    private static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>The id kept in <paramref name="path"/>, written there first when missing.</summary>
    private static string ReadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var kept = File.ReadAllText(path).Trim();
            if (IsValidId(kept))
            {
                return kept;
            }
            throw new InvalidOperationException($"The broker id in {path} is not valid ('{kept}'); delete the file to make a new one.");
        }
        var id = NewId();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var written = path + ".tmp";
        File.WriteAllText(written, id + "\n");
        File.Move(written, path, overwrite: true);
        return id;
    }

    [GeneratedRegex(@"\A[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex ValidId();

    // Kestrel reports wildcards as http://[::]:7400 or http://0.0.0.0:7400; configured ones may read * or +.
    private static Uri Parse(string bound) =>
        new(bound.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute);
}
