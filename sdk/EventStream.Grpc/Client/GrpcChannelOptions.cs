using EventStream.Grpc.Wire;

namespace EventStream.Grpc.Client;

/// <summary>Settings of a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The largest message the channel sends; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>The largest message the channel accepts; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>Compress request messages with gzip. Default off.</summary>
    public bool CompressRequests { get; set; }

    /// <summary>
    /// The HTTP handler to send calls through; by default a <see cref="SocketsHttpHandler"/>
    /// with HTTP/2 keep-alive pings. Useful for TLS settings or an in-memory test server.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Whether disposing the channel disposes <see cref="HttpHandler"/>. Default true.</summary>
    public bool DisposeHttpHandler { get; set; } = true;

    /// <summary>The user-agent sent with each call.</summary>
    public string UserAgent { get; set; } = "eventstream-dotnet/" + typeof(GrpcChannelOptions).Assembly.GetName().Version?.ToString(3);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxReceiveMessageSize);
    }
}
