namespace EventStream.Grpc.Server;

/// <summary>Handles a unary call.</summary>
public delegate Task<TResponse> UnaryHandler<TRequest, TResponse>(TRequest request, ServerCallContext context);

/// <summary>Handles a client-streaming call.</summary>
public delegate Task<TResponse> ClientStreamingHandler<TRequest, TResponse>(RequestStream<TRequest> requests, ServerCallContext context)
    where TRequest : class, Google.Protobuf.IMessage<TRequest>, new();

/// <summary>Handles a server-streaming call.</summary>
public delegate Task ServerStreamingHandler<TRequest, TResponse>(TRequest request, ResponseStream<TResponse> responses, ServerCallContext context)
    where TResponse : class, Google.Protobuf.IMessage<TResponse>;

/// <summary>Handles a duplex-streaming call.</summary>
public delegate Task DuplexStreamingHandler<TRequest, TResponse>(RequestStream<TRequest> requests, ResponseStream<TResponse> responses, ServerCallContext context)
    where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
    where TResponse : class, Google.Protobuf.IMessage<TResponse>;
