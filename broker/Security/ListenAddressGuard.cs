using System.Net;

namespace EventStream.Broker.Security;

/// <summary>
/// Secure by default: a broker without authentication may listen only on loopback, unless
/// <c>EventStream:Security:AllowAnonymous</c> says otherwise. Judged from configuration before
/// Kestrel binds anything, so a refused broker never opens its port.
/// </summary>
internal static class ListenAddressGuard
{
    /// <summary>Why the broker must not start, or null when it may.</summary>
    public static string? Refusal(IConfiguration configuration, SecurityOptions options)
    {
        if (options.AuthenticationEnabled || options.AllowAnonymous)
        {
            return null;
        }
        var exposed = ListenAddresses(configuration).Where(address => !IsLoopback(address)).ToList();
        return exposed.Count == 0
            ? null
            : $"Refusing to listen on {string.Join(", ", exposed)} without authentication: anyone who reaches the port could read, write " +
              $"and delete every topic. Configure authentication under {SecurityOptions.SectionName} (ApiKeys, Jwt or MutualTls), listen on " +
              $"loopback only, or set {SecurityOptions.SectionName}:AllowAnonymous=true to allow anonymous access explicitly.";
    }

    /// <summary>Every address Kestrel would listen on: <c>urls</c> (or, without it, <c>http_ports</c>/<c>https_ports</c>) and Kestrel endpoints.</summary>
    public static IEnumerable<string> ListenAddresses(IConfiguration configuration)
    {
        var urls = configuration["urls"];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return url;
            }
        }
        else
        {
            foreach (var ports in new[] { configuration["http_ports"], configuration["https_ports"] })
            {
                foreach (var port in (ports ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    // Ports alone listen on every interface.
                    yield return $"*:{port}";
                }
            }
        }
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    public static bool IsLoopback(string address)
    {
        var host = HostOf(address);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    private static string HostOf(string address)
    {
        var rest = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        rest = rest.Split('/')[0];
        if (rest.StartsWith('['))
        {
            return rest[..(rest.IndexOf(']') + 1)];
        }
        var colon = rest.LastIndexOf(':');
        return colon >= 0 ? rest[..colon] : rest;
    }
}
