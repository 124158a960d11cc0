using EventStream.Grpc;

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
/// <see cref="EventStreamErrorReason.Unauthorized"/> and <see cref="EventStreamErrorReason.NotSupported"/>
/// mean it was not.
/// </remarks>
public sealed class EventStreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the operation failed.</param>
    /// <param name="message">A message for people.</param>
    /// <param name="isTransient">Whether trying again later may succeed.</param>
    /// <param name="statusCode">The gRPC status behind the failure.</param>
    /// <param name="innerException">The failure's cause, e.g. a <see cref="GrpcException"/>.</param>
    public EventStreamException(EventStreamErrorReason reason, string message, bool isTransient = false,
        GrpcStatusCode statusCode = GrpcStatusCode.Unknown, Exception? innerException = null)
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
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The reason and transience of a gRPC status code: the one mapping for the whole client.</summary>
    internal static (EventStreamErrorReason Reason, bool IsTransient) Classify(GrpcStatusCode code) => code switch
    {
        GrpcStatusCode.NotFound => (EventStreamErrorReason.TopicNotFound, false),
        GrpcStatusCode.InvalidArgument or GrpcStatusCode.OutOfRange => (EventStreamErrorReason.InvalidArgument, false),
        GrpcStatusCode.ResourceExhausted => (EventStreamErrorReason.LimitExceeded, false),
        GrpcStatusCode.Unavailable => (EventStreamErrorReason.Unavailable, true),
        GrpcStatusCode.DeadlineExceeded => (EventStreamErrorReason.Timeout, true),
        GrpcStatusCode.Aborted => (EventStreamErrorReason.SequenceConflict, true),
        GrpcStatusCode.FailedPrecondition => (EventStreamErrorReason.SequenceConflict, false),
        GrpcStatusCode.Cancelled => (EventStreamErrorReason.Cancelled, false),
        GrpcStatusCode.PermissionDenied or GrpcStatusCode.Unauthenticated => (EventStreamErrorReason.Unauthorized, false),
        GrpcStatusCode.Unimplemented => (EventStreamErrorReason.NotSupported, false),
        GrpcStatusCode.Internal or GrpcStatusCode.DataLoss => (EventStreamErrorReason.Internal, false),
        _ => (EventStreamErrorReason.Unknown, false),
    };

    /// <summary>Wraps a failed gRPC call.</summary>
    internal static EventStreamException FromGrpc(GrpcException exception, string context)
    {
        var (reason, transient) = Classify(exception.StatusCode);
        var detail = exception.Status.Detail.Length == 0 ? exception.StatusCode.ToString() : $"{exception.StatusCode}: {exception.Status.Detail}";
        return new EventStreamException(reason, $"{context} failed with {detail}", transient, exception.StatusCode, exception);
    }
}
