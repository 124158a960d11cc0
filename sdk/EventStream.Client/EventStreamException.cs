using Grpc.Core;

namespace EventStream.Client;

/// <summary>
/// The one exception EventStream clients throw for failed operations. <see cref="Reason"/> says why,
/// <see cref="IsTransient"/> whether trying again later may succeed, and <see cref="StatusCode"/> is the
/// gRPC status behind it.
/// </summary>
/// <remarks>
/// A producer throws it only once it has given up: transient failures have already been retried up to
/// <see cref="EventStreamProducerOptions.MaxRetries"/> or <see cref="EventStreamProducerOptions.DeliveryTimeout"/>.
/// A failed event may or may not have been stored (an attempt may have succeeded without its answer
/// arriving), unless the broker rejected it outright: <see cref="EventStreamErrorReason.TopicNotFound"/>,
/// <see cref="EventStreamErrorReason.InvalidArgument"/>, <see cref="EventStreamErrorReason.LimitExceeded"/>,
/// <see cref="EventStreamErrorReason.Unauthenticated"/>, <see cref="EventStreamErrorReason.PermissionDenied"/> and <see cref="EventStreamErrorReason.NotSupported"/>
/// mean it was not.
/// </remarks>
public sealed class EventStreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the operation failed.</param>
    /// <param name="message">A message for people.</param>
    /// <param name="isTransient">Whether trying again later may succeed.</param>
    /// <param name="statusCode">The gRPC status behind the failure.</param>
    /// <param name="innerException">The failure's cause, e.g. an <see cref="RpcException"/>.</param>
    public EventStreamException(EventStreamErrorReason reason, string message, bool isTransient = false,
        StatusCode statusCode = StatusCode.Unknown, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        IsTransient = isTransient;
        StatusCode = statusCode;
    }

    /// <summary>Why the operation failed.</summary>
    public EventStreamErrorReason Reason { get; }

    /// <summary>Whether trying again later may succeed, e.g. once the broker is back.</summary>
    public bool IsTransient { get; }

    /// <summary>The gRPC status code behind the failure; client-side failures use the closest code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The reason and transience of a gRPC status code: the one mapping for the whole client.</summary>
    internal static (EventStreamErrorReason Reason, bool IsTransient) Classify(StatusCode code) => code switch
    {
        StatusCode.NotFound => (EventStreamErrorReason.TopicNotFound, false),
        StatusCode.InvalidArgument or StatusCode.OutOfRange => (EventStreamErrorReason.InvalidArgument, false),
        StatusCode.ResourceExhausted => (EventStreamErrorReason.LimitExceeded, false),
        StatusCode.Unavailable => (EventStreamErrorReason.Unavailable, true),
        StatusCode.DeadlineExceeded => (EventStreamErrorReason.Timeout, true),
        StatusCode.Aborted => (EventStreamErrorReason.SequenceConflict, true),
        StatusCode.FailedPrecondition => (EventStreamErrorReason.SequenceConflict, false),
        StatusCode.Cancelled => (EventStreamErrorReason.Cancelled, false),
        StatusCode.Unauthenticated => (EventStreamErrorReason.Unauthenticated, false),
        StatusCode.PermissionDenied => (EventStreamErrorReason.PermissionDenied, false),
        StatusCode.Unimplemented => (EventStreamErrorReason.NotSupported, false),
        StatusCode.Internal or StatusCode.DataLoss => (EventStreamErrorReason.Internal, false),
        _ => (EventStreamErrorReason.Unknown, false),
    };

    /// <summary>Wraps a failed gRPC call.</summary>
    internal static EventStreamException FromGrpc(RpcException exception, string context)
    {
        var (reason, transient) = Classify(exception.StatusCode);
        var detail = string.IsNullOrEmpty(exception.Status.Detail) ? exception.StatusCode.ToString() : $"{exception.StatusCode}: {exception.Status.Detail}";
        return new EventStreamException(reason, $"{context} failed with {detail}", transient, exception.StatusCode, exception);
    }
}
