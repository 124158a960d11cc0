namespace EventStream.Grpc.Wire;

/// <summary>Names and numbers of the gRPC-over-HTTP/2 protocol.</summary>
public static class GrpcProtocol
{
    /// <summary>The content type of gRPC requests and responses.</summary>
    public const string ContentType = "application/grpc";
    /// <summary>The size of a message's prefix: a compressed flag and a 4-byte big-endian length.</summary>
    public const int MessagePrefixSize = 5;
    /// <summary>The default limit on one message's size, in both directions.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Header: the call's timeout.</summary>
    public const string TimeoutHeader = "grpc-timeout";
    /// <summary>Header: the compression of the messages that follow.</summary>
    public const string EncodingHeader = "grpc-encoding";
    /// <summary>Header: the compressions the sender accepts.</summary>
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    /// <summary>Trailer: the status code.</summary>
    public const string StatusTrailer = "grpc-status";
    /// <summary>Trailer: the percent-encoded status message.</summary>
    public const string MessageTrailer = "grpc-message";

    /// <summary>The identity (no) compression.</summary>
    public const string IdentityEncoding = "identity";
    /// <summary>The gzip compression.</summary>
    public const string GzipEncoding = "gzip";
    /// <summary>What this implementation can decompress.</summary>
    public const string SupportedEncodings = "identity,gzip";

    /// <summary>Whether a content type is a gRPC one (application/grpc, +proto, ;charset...).</summary>
    public static bool IsGrpcContentType(string? contentType) =>
        contentType is not null
        && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';');

    /// <summary>Whether a header is part of the protocol rather than user metadata.</summary>
    public static bool IsReservedHeader(string name) =>
        name.StartsWith(':')
        || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the compression named by a grpc-encoding header; null if unsupported.</summary>
    public static MessageCompression? ParseEncoding(string? value) => value switch
    {
        null or "" or IdentityEncoding => MessageCompression.None,
        GzipEncoding => MessageCompression.Gzip,
        _ => null,
    };
}

/// <summary>How the messages of a call are compressed.</summary>
public enum MessageCompression
{
    /// <summary>Not compressed.</summary>
    None,
    /// <summary>gzip.</summary>
    Gzip,
}
