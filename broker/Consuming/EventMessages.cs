using System.Text.Json;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Consuming;

/// <summary>Renders decoded events as eventstream.v1 messages (payloads through <see cref="PayloadRendering"/>).</summary>
internal static class EventMessages
{
    public static Event ToMessage(StreamedEvent e, string topic, PayloadFormat format)
    {
        var message = new Event
        {
            Topic = topic,
            Shard = e.Shard,
            EventId = e.EventId,
            // The decoded arrays are never changed after decoding: wrapped, not copied.
            Key = e.Key is null ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(e.Key),
            IngestTime = Timestamp.FromDateTime(DateTime.SpecifyKind(e.IngestTime, DateTimeKind.Utc)),
            ContentType = e.ContentType ?? "",
            Position = ToMessage(e.Position),
        };
        if (e.ProducerTime is { } producerTime)
        {
            message.ProducerTime = Timestamp.FromDateTime(DateTime.SpecifyKind(producerTime, DateTimeKind.Utc));
        }
        if (e.HeadersJson is not null)
        {
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(e.HeadersJson) ?? [])
            {
                message.Headers[name] = value;
            }
        }
        PayloadRendering.SetPayload(message, e.Payload, format);
        return message;
    }

    public static Position ToMessage(EventPosition position) =>
        new() { Node = position.Node, CommitLsn = position.CommitLsn, Ordinal = position.Ordinal, EventId = position.EventId };
}
