using EventStream.Grpc;
using EventStream.Protocol.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The methods of <c>eventstream.v1.Producer</c>.</summary>
public static class ProducerMethods
{
    /// <summary>The service as protobuf describes it.</summary>
    public static ServiceDescriptor Service { get; } = ProducerReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Producer");

    public static Method<ProduceRequest, ProduceResponse> Produce { get; } = MethodFactory.Create<ProduceRequest, ProduceResponse>(Service, nameof(Produce));
    public static Method<ProduceStreamRequest, ProduceStreamResponse> ProduceStream { get; } = MethodFactory.Create<ProduceStreamRequest, ProduceStreamResponse>(Service, nameof(ProduceStream));
}
