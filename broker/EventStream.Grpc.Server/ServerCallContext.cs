using Microsoft.AspNetCore.Http;

namespace EventStream.Grpc.Server;

/// <summary>What a method handler knows about its call.</summary>
public sealed class ServerCallContext
{
    internal ServerCallContext(HttpContext httpContext, string method, Metadata requestHeaders, DateTime? deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The method's path, e.g. <c>/eventstream.v1.Admin/CreateTopic</c>.</summary>
    public string Method { get; }

    /// <summary>Metadata the client sent.</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>Metadata sent after the status; handlers may add to it.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>When the client's deadline expires (UTC), if it set one.</summary>
    public DateTime? Deadline { get; }

    /// <summary>Cancelled when the client goes away or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The client's address, e.g. <c>ipv4:127.0.0.1:51234</c>.</summary>
    public string Peer => HttpContext.Connection.RemoteIpAddress is { } ip
        ? $"{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6:[" + ip + "]" : "ipv4:" + ip)}:{HttpContext.Connection.RemotePort}"
        : "unknown";

    /// <summary>The underlying HTTP/2 request.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>Sends response headers now; they must precede the first response message.</summary>
    public Task WriteResponseHeadersAsync(Metadata headers)
    {
        if (HttpContext.Response.HasStarted)
        {
            throw new InvalidOperationException("Response headers were already sent.");
        }
        foreach (var entry in headers)
        {
            HttpContext.Response.Headers.Append(entry.Key, entry.WireValue);
        }
        return HttpContext.Response.StartAsync(CancellationToken);
    }
}
