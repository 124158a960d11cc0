using Microsoft.Extensions.Logging;

namespace EventStream.Grpc.Server;

internal static partial class GrpcServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Call {Method} from {Peer} started.")]
    public static partial void CallStarted(ILogger logger, string method, string peer);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Call {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallEnded(ILogger logger, string method, GrpcStatusCode statusCode, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Call {Method} failed with an unexpected exception.")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Call {Method} to an unknown method.")]
    public static partial void UnknownMethod(ILogger logger, string method);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Rejected a non-gRPC request to {Path}: {Reason}")]
    public static partial void RejectedRequest(ILogger logger, string path, string reason);
}
