using System.IO.Pipelines;
using EventStream.Grpc.Wire;
using Google.Protobuf;

namespace EventStream.Grpc.Server;

/// <summary>A bound method: reads its requests, runs the handler, writes its responses.</summary>
internal abstract class ServerMethod
{
    public abstract Task InvokeAsync(ServerCallContext context, PipeReader body, PipeWriter output, MessageCompression requestCompression, GrpcServerOptions options);
}

internal sealed class ServerMethod<TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    UnaryHandler<TRequest, TResponse>? unary,
    ClientStreamingHandler<TRequest, TResponse>? clientStreaming,
    ServerStreamingHandler<TRequest, TResponse>? serverStreaming,
    DuplexStreamingHandler<TRequest, TResponse>? duplexStreaming) : ServerMethod
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override async Task InvokeAsync(ServerCallContext context, PipeReader body, PipeWriter output, MessageCompression requestCompression, GrpcServerOptions options)
    {
        var token = context.CancellationToken;
        var requests = new RequestStream<TRequest>(body, method.RequestParser, options.MaxReceiveMessageSize, requestCompression, token);
        var responses = new ResponseStream<TResponse>(output, options.MaxSendMessageSize, token);
        switch (method.Type)
        {
            case MethodType.Unary:
                await responses.WriteAsync(await unary!(await ReadSingleAsync(requests, token), context), token);
                break;
            case MethodType.ClientStreaming:
                await responses.WriteAsync(await clientStreaming!(requests, context), token);
                break;
            case MethodType.ServerStreaming:
                await serverStreaming!(await ReadSingleAsync(requests, token), responses, context);
                break;
            default:
                await duplexStreaming!(requests, responses, context);
                break;
        }
    }

    private static async Task<TRequest> ReadSingleAsync(RequestStream<TRequest> requests, CancellationToken cancellationToken)
    {
        var request = await requests.ReadNextAsync(cancellationToken)
            ?? throw new GrpcException(GrpcStatusCode.Internal, "The request ended without a message.");
        if (await requests.ReadNextAsync(cancellationToken) is not null)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "More than one request message was sent to a method that takes one.");
        }
        return request;
    }
}
