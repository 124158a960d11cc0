using Grpc.Core;
using Grpc.Core.Interceptors;

namespace EventStream.Broker.Transport;

/// <summary>
/// Ends every call that fails with the status <see cref="CallFailures"/> gives it, so handlers
/// throw what they mean and never map errors themselves. Cancelled calls and expired deadlines are
/// left to the framework, which reports CANCELLED or DEADLINE_EXCEEDED.
/// </summary>
internal sealed class FailureInterceptor(CallFailures failures) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    /// <summary>The exception to end the call with instead, or null to let <paramref name="failure"/> through.</summary>
    private RpcException? Translate(Exception failure, ServerCallContext context) =>
        failure is RpcException || context.CancellationToken.IsCancellationRequested
            ? null
            : new RpcException(failures.ToStatus(failure, context.Method));
}
