using EventStream.Broker.Storage;
using Grpc.Core;
using Npgsql;
using System.Net.Sockets;

namespace EventStream.Broker.Transport;

/// <summary>
/// The one mapping from a failure to the status a client sees. Failures the broker means
/// (<see cref="RpcException"/>) and database outages get their own status; anything else is an
/// internal error: the client gets an error id, the broker's log gets the exception.
/// </summary>
internal sealed partial class CallFailures(ILogger<CallFailures> logger)
{
    private static readonly Status Unavailable =
        new(StatusCode.Unavailable, "The database is unavailable; nothing was acknowledged, retry later.");

    /// <summary>The status to answer <paramref name="failure"/> of a call to <paramref name="method"/> with.</summary>
    public Status ToStatus(Exception failure, string method)
    {
        if (KnownStatus(failure) is { } status)
        {
            return status;
        }
        var errorId = Guid.NewGuid().ToString("N")[..12];
        LogFailed(logger, method, errorId, failure);
        if (failure is PostgresException { SqlState: [ '2', '2', ..] })
        {
            // A data exception: a value the broker's checks let through. Still the client's input.
            return new Status(StatusCode.InvalidArgument, $"The database refused a value of the request (error id {errorId}; the broker's log has the details).");
        }
        var what = failure is PostgresException ? "The database rejected the request" : "The broker failed to handle the call";
        return new Status(StatusCode.Internal, $"{what} (error id {errorId}; the broker's log has the details).");
    }

    /// <summary>
    /// The status of a failure that is not an internal error, or null. Database outages are
    /// UNAVAILABLE: the same request may well succeed when sent again.
    /// </summary>
    public static Status? KnownStatus(Exception failure) => failure switch
    {
        RpcException e => e.Status,
        DatabaseNotReadyException => new Status(StatusCode.Unavailable, "The broker's database is starting; retry shortly."),
        // Shutdown, crash, cannot connect, too many connections; serialization failures and deadlocks.
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" or "08006" or "08003" or "08001" or "40001" or "40P01" } => Unavailable,
        PostgresException => null,
        NpgsqlException or SocketException or IOException or TimeoutException => Unavailable,
        InvalidOperationException when failure.Source == "Npgsql" => Unavailable,
        _ => null,
    };

    [LoggerMessage(EventId = 1900, Level = LogLevel.Error, Message = "Call {Method} failed (error id {ErrorId}).")]
    private static partial void LogFailed(ILogger logger, string method, string errorId, Exception exception);
}
