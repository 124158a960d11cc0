namespace EventStream.Grpc;

/// <summary>The status codes of the gRPC protocol.</summary>
public enum GrpcStatusCode
{
    /// <summary>Not an error.</summary>
    OK = 0,
    /// <summary>The operation was cancelled, typically by the caller.</summary>
    Cancelled = 1,
    /// <summary>An error that fits no other code.</summary>
    Unknown = 2,
    /// <summary>The caller sent an invalid argument.</summary>
    InvalidArgument = 3,
    /// <summary>The deadline expired before the operation completed.</summary>
    DeadlineExceeded = 4,
    /// <summary>A requested entity was not found.</summary>
    NotFound = 5,
    /// <summary>The entity the caller tried to create already exists.</summary>
    AlreadyExists = 6,
    /// <summary>The caller may not do this.</summary>
    PermissionDenied = 7,
    /// <summary>A resource or a limit was exhausted, e.g. the message size limit.</summary>
    ResourceExhausted = 8,
    /// <summary>The system is not in the state the operation requires.</summary>
    FailedPrecondition = 9,
    /// <summary>The operation was aborted, typically by a concurrency conflict.</summary>
    Aborted = 10,
    /// <summary>The operation was attempted past the valid range.</summary>
    OutOfRange = 11,
    /// <summary>The method is not implemented or not supported.</summary>
    Unimplemented = 12,
    /// <summary>An internal invariant was broken.</summary>
    Internal = 13,
    /// <summary>The service is currently unavailable; retrying may succeed.</summary>
    Unavailable = 14,
    /// <summary>Unrecoverable data loss or corruption.</summary>
    DataLoss = 15,
    /// <summary>The caller has no valid credentials.</summary>
    Unauthenticated = 16,
}
