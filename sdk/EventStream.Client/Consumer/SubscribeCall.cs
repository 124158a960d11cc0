using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Client.Consumer;

/// <summary>
/// The operations of a Subscribe call, each failing only with <see cref="RpcException"/>: grpc-dotnet also
/// throws others (the call was disposed, the request stream completed, a cancellation surfaced as such),
/// which all mean the session is gone. The request stream takes one operation at a time; callers serialise.
/// </summary>
internal static class SubscribeCall
{
    /// <summary>The next response, or null once the call ended with OK.</summary>
    public static async ValueTask<SubscribeResponse?> ReadAsync(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : null;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw AsRpcException(e);
        }
    }

    /// <summary>Writes one request.</summary>
    public static async Task WriteAsync(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call, SubscribeRequest request)
    {
        try
        {
            await call.RequestStream.WriteAsync(request).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw AsRpcException(e);
        }
    }

    /// <summary>Tells the broker no more requests follow.</summary>
    public static async Task CompleteAsync(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call)
    {
        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw AsRpcException(e);
        }
    }

    /// <summary>A failure that is not an <see cref="RpcException"/> as one: CANCELLED for cancellations, else UNAVAILABLE.</summary>
    public static RpcException AsRpcException(Exception e) => e is OperationCanceledException
        ? new RpcException(new Status(StatusCode.Cancelled, e.Message, e))
        : new RpcException(new Status(StatusCode.Unavailable, e.Message, e));
}
