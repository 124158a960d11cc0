namespace EventStream.Grpc;

/// <summary>A gRPC call ended with a status other than OK.</summary>
public class GrpcException : Exception
{
    /// <summary>Creates the exception for a status, with optional trailers.</summary>
    public GrpcException(GrpcStatus status, Metadata? trailers = null, Exception? innerException = null)
        : base(status.ToString(), innerException)
    {
        Status = status;
        Trailers = trailers ?? Metadata.Empty;
    }

    /// <summary>Creates the exception for a code and a detail message.</summary>
    public GrpcException(GrpcStatusCode code, string detail)
        : this(new GrpcStatus(code, detail))
    {
    }

    /// <summary>The call's status.</summary>
    public GrpcStatus Status { get; }

    /// <summary>The status code.</summary>
    public GrpcStatusCode StatusCode => Status.Code;

    /// <summary>Trailing metadata sent with the status.</summary>
    public Metadata Trailers { get; }
}
