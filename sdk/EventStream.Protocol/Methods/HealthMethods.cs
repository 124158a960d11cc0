using EventStream.Grpc;
using EventStream.Protocol.Health.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The methods of <c>grpc.health.v1.Health</c>.</summary>
public static class HealthMethods
{
    /// <summary>The service as protobuf describes it.</summary>
    public static ServiceDescriptor Service { get; } = HealthReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Health");

    public static Method<HealthCheckRequest, HealthCheckResponse> Check { get; } = MethodFactory.Create<HealthCheckRequest, HealthCheckResponse>(Service, nameof(Check));
    public static Method<HealthCheckRequest, HealthCheckResponse> Watch { get; } = MethodFactory.Create<HealthCheckRequest, HealthCheckResponse>(Service, nameof(Watch));
}
