using System.Reflection;
using Grpc.Net.Client;
using Grpc.Net.Compression;

namespace EventStream.Client.Transport;

/// <summary>
/// The SDK's defaults for the channels it creates: an HTTP/2 handler that keeps connections alive and
/// opens more of them when one is full, and no compressed responses (see <see cref="ApplyDefaults"/>).
/// Also copies <see cref="GrpcChannelOptions"/>, so the user's instance is never changed.
/// </summary>
internal static class ChannelSettings
{
    // Every public setting, read once: a copy keeps up with settings newer versions of grpc-dotnet add.
    private static readonly PropertyInfo[] Settings = typeof(GrpcChannelOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0)
        .ToArray();

    /// <summary>
    /// The handler of a channel the SDK creates when the user supplies none: HTTP/2 pings every 60 s
    /// (a dead connection is noticed within 30 s more), connections kept however long they idle, a
    /// new connection when one carries as many streams as the server allows, and a 1 MiB receive
    /// window per stream from the start, so the broker can push a few batches ahead of the
    /// consumer instead of waiting for window updates (docs/performance.md: one member 0.58-0.60
    /// of the producers' rate before, 0.69-0.71 after; 4 MiB traded latency for it).
    /// </summary>
    public static SocketsHttpHandler CreateDefaultHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        InitialHttp2StreamWindowSize = 1024 * 1024,
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Advertises no response compression unless the user chose compression providers: the broker
    /// gzips responses for clients that accept gzip (grpc-dotnet's default), which costs CPU on both
    /// sides of the consume path for little gain on a local network.
    /// </summary>
    public static void ApplyDefaults(GrpcChannelOptions options) =>
        options.CompressionProviders ??= new List<ICompressionProvider>();

    /// <summary>A shallow copy of every public setting.</summary>
    public static GrpcChannelOptions Copy(GrpcChannelOptions source)
    {
        var copy = new GrpcChannelOptions();
        CopyTo(source, copy, static _ => true);
        return copy;
    }

    /// <summary>
    /// Copies the user's settings onto options a gRPC client factory prepared: its handler, logger factory
    /// and service provider stay unless the user set their own.
    /// </summary>
    public static void Overlay(GrpcChannelOptions source, GrpcChannelOptions target)
    {
        var ownTransport = source.HttpHandler is not null || source.HttpClient is not null;
        CopyTo(source, target, p => p.Name switch
        {
            nameof(GrpcChannelOptions.HttpHandler) or nameof(GrpcChannelOptions.HttpClient) or nameof(GrpcChannelOptions.DisposeHttpClient) => ownTransport,
            nameof(GrpcChannelOptions.LoggerFactory) => source.LoggerFactory is not null,
            nameof(GrpcChannelOptions.ServiceProvider) => source.ServiceProvider is not null,
            _ => true,
        });
    }

    private static void CopyTo(GrpcChannelOptions source, GrpcChannelOptions target, Func<PropertyInfo, bool> include)
    {
        foreach (var setting in Settings)
        {
            if (include(setting))
            {
                setting.SetValue(target, setting.GetValue(source));
            }
        }
    }
}
