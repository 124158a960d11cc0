using EventStream.Grpc;
using EventStream.Protocol.Reflection.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The server reflection methods, v1 and v1alpha.</summary>
public static class ReflectionMethods
{
    /// <summary><c>grpc.reflection.v1.ServerReflection</c>.</summary>
    public static ServiceDescriptor Service { get; } = ReflectionReflection.Descriptor.FindTypeByName<ServiceDescriptor>("ServerReflection");

    /// <summary><c>grpc.reflection.v1alpha.ServerReflection</c>.</summary>
    public static ServiceDescriptor ServiceV1Alpha { get; } = Reflection.V1Alpha.ReflectionReflection.Descriptor.FindTypeByName<ServiceDescriptor>("ServerReflection");

    public static Method<ServerReflectionRequest, ServerReflectionResponse> ServerReflectionInfo { get; } =
        MethodFactory.Create<ServerReflectionRequest, ServerReflectionResponse>(Service, nameof(ServerReflectionInfo));

    /// <summary>The v1alpha method, with the v1 messages: both versions have the same wire format.</summary>
    public static Method<ServerReflectionRequest, ServerReflectionResponse> ServerReflectionInfoV1Alpha { get; } =
        new(MethodType.DuplexStreaming, ServiceV1Alpha.FullName, nameof(ServerReflectionInfo));
}
