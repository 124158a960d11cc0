using Grpc.Core;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

internal static class StartPoints
{
    /// <summary>
    /// The ingest time a group reads the table from: null for LATEST (only what follows the
    /// group's slot), DateTime.MinValue (-infinity) for EARLIEST, or the given time.
    /// </summary>
    public static DateTime? From(StartPoint? start) => start?.Kind switch
    {
        StartPoint.Types.Kind.Earliest => DateTime.MinValue,
        StartPoint.Types.Kind.Time => start.Time?.ToDateTime()
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "A start point of kind TIME needs a time.")),
        _ => null,
    };
}
