namespace EventStream.Client;

/// <summary>Why an EventStream operation failed; see <see cref="EventStreamException.Reason"/>.</summary>
public enum EventStreamErrorReason
{
    /// <summary>A failure that fits no other reason (gRPC UNKNOWN, ALREADY_EXISTS).</summary>
    Unknown = 0,

    /// <summary>The topic does not exist (gRPC NOT_FOUND). Create it first.</summary>
    TopicNotFound,

    /// <summary>The broker rejected the request as malformed, e.g. a bad topic name (INVALID_ARGUMENT, OUT_OF_RANGE).</summary>
    InvalidArgument,

    /// <summary>A size or quota limit was hit, e.g. an event larger than a request may be (RESOURCE_EXHAUSTED).</summary>
    LimitExceeded,

    /// <summary>The broker could not be reached or is not ready (UNAVAILABLE). Transient.</summary>
    Unavailable,

    /// <summary>The operation did not finish in time: a request deadline (DEADLINE_EXCEEDED) or the producer's delivery timeout. Transient.</summary>
    Timeout,

    /// <summary>
    /// The broker's sequence numbers for this producer and topic disagree with the batch: ABORTED when the
    /// batch is ahead (transient; the producer resends earlier batches first), FAILED_PRECONDITION when it is
    /// behind and no longer remembered (not transient).
    /// </summary>
    SequenceConflict,

    /// <summary>The call was cancelled (CANCELLED).</summary>
    Cancelled,

    /// <summary>
    /// The broker refused the caller's credentials, or got none where it needs some (UNAUTHENTICATED): set the
    /// options' <c>Credentials</c>, or replace a revoked or expired key or token. Not transient.
    /// </summary>
    Unauthenticated,

    /// <summary>The broker does not implement the method, e.g. an older version (UNIMPLEMENTED).</summary>
    NotSupported,

    /// <summary>The broker failed internally or sent something malformed (INTERNAL, DATA_LOSS).</summary>
    Internal,

    /// <summary>
    /// The client was disposed first: a producer before the event was acknowledged (the event may or may
    /// not be stored), a consumer before a commit was answered (it may or may not have been recorded).
    /// </summary>
    ClientClosed,

    /// <summary>
    /// A consumer's commit was rejected because the member no longer holds the shard under the lease the
    /// events came with (FAILED_PRECONDITION): the shard moved to another member, which receives the
    /// uncommitted events again. Not transient.
    /// </summary>
    LeaseLost,

    /// <summary>
    /// The caller is authenticated but its ACLs do not allow the operation on that topic or group
    /// (PERMISSION_DENIED). Not transient: an admin must grant the right.
    /// </summary>
    PermissionDenied,
}
