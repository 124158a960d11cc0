using EventStream.Grpc;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

internal static class MethodFactory
{
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(ServiceDescriptor service, string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Method<TRequest, TResponse>.FromDescriptor(
            service.FindMethodByName(name) ?? throw new ArgumentException($"{service.FullName} has no method {name}.", nameof(name)));
}
