using EventStream.Grpc.Server;
using EventStream.Protocol.Methods;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace EventStream.Broker.Services;

/// <summary>
/// Publishes the parts of the eventstream.v1 contract no service implements yet, so reflection
/// describes them; their methods answer UNIMPLEMENTED.
/// </summary>
internal sealed class ContractServices : IGrpcService
{
    public IEnumerable<ServiceDescriptor> Services => [ConsumerMethods.Service];

    public void Bind(GrpcServiceBinder binder)
    {
    }
}
