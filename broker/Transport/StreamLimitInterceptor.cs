using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Transport;

/// <summary>
/// Counts the streaming calls open on each connection and refuses one past
/// <see cref="GrpcLimits.MaxStreamsPerConnection"/> with RESOURCE_EXHAUSTED naming the setting,
/// where HTTP/2 alone would queue it silently in the client. Unary calls are not counted: they
/// end by themselves, and HTTP/2 leaves them room beside full streams.
/// </summary>
internal sealed class StreamLimitInterceptor(IOptions<GrpcLimits> limits) : Interceptor
{
    private readonly ConcurrentDictionary<string, int> _open = new();

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var connection = Open(context);
        try
        {
            return await continuation(requestStream, context);
        }
        finally
        {
            Close(connection);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var connection = Open(context);
        try
        {
            await continuation(request, responseStream, context);
        }
        finally
        {
            Close(connection);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var connection = Open(context);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        finally
        {
            Close(connection);
        }
    }

    private string Open(ServerCallContext context)
    {
        var connection = context.GetHttpContext().Connection.Id;
        var limit = limits.Value.MaxStreamsPerConnection;
        var open = _open.AddOrUpdate(connection, 1, (_, count) => count + 1);
        if (open > limit)
        {
            Close(connection);
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"This connection has {limit} streaming calls open, the most allowed ({GrpcLimits.SectionName}:MaxStreamsPerConnection); end one or open another connection."));
        }
        return connection;
    }

    private void Close(string connection)
    {
        while (true)
        {
            var open = _open[connection];
            if (open == 1 ? _open.TryRemove(KeyValuePair.Create(connection, 1)) : _open.TryUpdate(connection, open - 1, open))
            {
                return;
            }
        }
    }
}
