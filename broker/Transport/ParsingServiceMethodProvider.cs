using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace EventStream.Broker.Transport;

/// <summary>
/// Binds each generated gRPC service as grpc-dotnet's own binder does (same routes, same endpoint
/// metadata), with request marshallers that answer a message that cannot be parsed (truncated,
/// a string field that is not UTF-8) with INVALID_ARGUMENT; the framework would answer UNKNOWN,
/// as parsing happens before any interceptor runs.
/// </summary>
internal sealed class ParsingServiceMethodProvider<TService> : IServiceMethodProvider<TService> where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } binding)
            {
                var bind = binding.BindType.GetMethod(binding.BindMethodName,
                    BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(ServiceBinderBase), type]);
                bind?.Invoke(null, [new Binder(context), null]);
                return;
            }
        }
    }

    /// <summary>Receives the generated methods and adds them with the checked marshaller.</summary>
    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Grpc.Core.UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var target = Target(method, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(Parsed(method), Metadata(target),
                target.CreateDelegate<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>());
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Grpc.Core.ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var target = Target(method, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(Parsed(method), Metadata(target),
                target.CreateDelegate<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>());
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Grpc.Core.ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var target = Target(method, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(Parsed(method), Metadata(target),
                target.CreateDelegate<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>());
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Grpc.Core.DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var target = Target(method, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(Parsed(method), Metadata(target),
                target.CreateDelegate<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>());
        }

        private static MethodInfo Target(IMethod method, params Type[] parameters) =>
            typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters)
            ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name}.");

        // As grpc-dotnet does: the service's attributes, then the method's (authorization, CORS).
        private static List<object> Metadata(MethodInfo target) =>
            [.. typeof(TService).GetCustomAttributes(inherit: true), .. target.GetCustomAttributes(inherit: true)];

        private static Method<TRequest, TResponse> Parsed<TRequest, TResponse>(Method<TRequest, TResponse> method)
        {
            var parse = method.RequestMarshaller.ContextualDeserializer;
            var checkedRequests = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, request =>
            {
                try
                {
                    return parse(request);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument,
                        $"The {typeof(TRequest).Name} message could not be parsed: {e.Message}"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, checkedRequests, method.ResponseMarshaller);
        }
    }
}
