using EventStream.Protocol.V1;
using Google.Protobuf;

namespace EventStream.Broker.Consuming;

/// <summary>
/// What one delivery to a member may carry: at most <see cref="MaxEvents"/> events whose rendered
/// messages, with the batches around them, take at most <see cref="MaxBytes"/>, so the gRPC message
/// carrying them stays under the broker's send limit. One event always goes, whatever its size:
/// an event is never held back behind a limit it could not meet alone.
/// </summary>
internal readonly record struct DeliveryLimit(int MaxEvents, int MaxBytes)
{
    /// <summary>
    /// Bytes of each message left for what is not counted event by event: the response's own
    /// fields and the field headers around a batch.
    /// </summary>
    public const int Headroom = 16 * 1024;

    /// <summary>
    /// Counted for every shard batch of a delivery: its shard, epoch and field headers, and in a
    /// Poll answer the shard's commit (with its position).
    /// </summary>
    public const int BatchOverhead = 128;

    /// <summary>The bytes of events one message may carry under a send limit of <paramref name="maxSendMessageSize"/>.</summary>
    public static int EventBytesFor(int maxSendMessageSize) =>
        Math.Max(maxSendMessageSize - Headroom, maxSendMessageSize / 2);

    /// <summary>An event's bytes as an element of a repeated field: tag, length and message.</summary>
    public static int SizeInBatch(Event message)
    {
        var size = message.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }
}
