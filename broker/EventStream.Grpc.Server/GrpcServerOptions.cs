using EventStream.Grpc.Wire;

namespace EventStream.Grpc.Server;

/// <summary>Settings of the gRPC server.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>The largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>The largest response message sent; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;
}
