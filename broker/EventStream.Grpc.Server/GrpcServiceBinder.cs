using Google.Protobuf;

namespace EventStream.Grpc.Server;

/// <summary>Collects method handlers by path.</summary>
public sealed class GrpcServiceBinder
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    internal IReadOnlyDictionary<string, ServerMethod> Methods => _methods;

    /// <summary>Binds a unary method.</summary>
    public void Unary<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.Unary, new ServerMethod<TRequest, TResponse>(method, handler, null, null, null));

    /// <summary>Binds a client-streaming method.</summary>
    public void ClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.ClientStreaming, new ServerMethod<TRequest, TResponse>(method, null, handler, null, null));

    /// <summary>Binds a server-streaming method.</summary>
    public void ServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.ServerStreaming, new ServerMethod<TRequest, TResponse>(method, null, null, handler, null));

    /// <summary>Binds a duplex-streaming method.</summary>
    public void DuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.DuplexStreaming, new ServerMethod<TRequest, TResponse>(method, null, null, null, handler));

    private void Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, ServerMethod handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method} is {method.Type}, not {expected}.", nameof(method));
        }
        if (!_methods.TryAdd(method.FullName, handler))
        {
            throw new InvalidOperationException($"{method} is bound twice.");
        }
    }
}
