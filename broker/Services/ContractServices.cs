using EventStream.Grpc.Server;
using EventStream.Protocol.Methods;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace EventStream.Broker.Services;

/// <summary>
/// Publishes the whole eventstream.v1 contract, so reflection describes every service; a method
/// no service binds yet answers UNIMPLEMENTED.
/// </summary>
internal sealed class ContractServices : IGrpcService
{
    public IEnumerable<ServiceDescriptor> Services => [AdminMethods.Service, ProducerMethods.Service, ConsumerMethods.Service];

    public void Bind(GrpcServiceBinder binder)
    {
    }
}
