using EventStream.Broker.Validation;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

internal static class StartPoints
{
    /// <summary>
    /// The ingest time a group reads the table from: null for LATEST (only what follows the
    /// group's slot), DateTime.MinValue (-infinity) for EARLIEST, or the given time.
    /// INVALID_ARGUMENT for an unknown kind, or a TIME without a valid time.
    /// </summary>
    public static DateTime? From(StartPoint? start) => start?.Kind switch
    {
        null or StartPoint.Types.Kind.Latest => null,
        StartPoint.Types.Kind.Earliest => DateTime.MinValue,
        StartPoint.Types.Kind.Time => start.Time is { } time
            ? RequestRules.Timestamp("start.time", time)
            : throw RequestRules.Invalid("start.time", "is required for a start point of kind TIME"),
        _ => throw RequestRules.Invalid("start.kind", $"{(int)start.Kind} is not a start point kind"),
    };
}
