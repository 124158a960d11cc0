using Google.Protobuf.Reflection;

namespace EventStream.Grpc.Server;

/// <summary>
/// A gRPC service the server hosts. Methods of <see cref="Services"/> that <see cref="Bind"/>
/// does not bind answer UNIMPLEMENTED; reflection describes them all.
/// </summary>
public interface IGrpcService
{
    /// <summary>The services this implementation serves, as protobuf describes them.</summary>
    IEnumerable<ServiceDescriptor> Services { get; }

    /// <summary>Binds the implemented methods to their handlers.</summary>
    void Bind(GrpcServiceBinder binder);
}
