using System.Net.Sockets;
using EventStream.Grpc;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>Turns database failures into gRPC statuses a client can act on, without internals.</summary>
internal static class StorageCalls
{
    public static async Task<T> RunAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (ToStatus(e) is { } status)
        {
            throw new GrpcException(status, innerException: e);
        }
    }

    public static Task RunAsync(Func<Task> call) => RunAsync(async () =>
    {
        await call();
        return true;
    });

    /// <summary>The status for a storage failure; null for exceptions that are not storage failures.</summary>
    public static GrpcStatus? ToStatus(Exception e) => e switch
    {
        GrpcException => null,
        DatabaseNotReadyException => new GrpcStatus(GrpcStatusCode.Unavailable, "The broker's database is starting; retry shortly."),
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" or "08006" or "08003" or "08001" } =>
            Unavailable,
        // Serialization failures and deadlocks: the same request may well succeed if sent again.
        PostgresException { SqlState: "40001" or "40P01" } => Unavailable,
        PostgresException pg => new GrpcStatus(GrpcStatusCode.Internal, $"The database rejected the request (SQLSTATE {pg.SqlState})."),
        NpgsqlException or SocketException or IOException or TimeoutException => Unavailable,
        InvalidOperationException when e.Source == "Npgsql" => Unavailable,
        _ => null,
    };

    private static readonly GrpcStatus Unavailable =
        new(GrpcStatusCode.Unavailable, "The database is unavailable; nothing was acknowledged, retry later.");
}
