using System.Text;
using System.Text.Json;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Consuming;

/// <summary>Renders decoded events as eventstream.v1 messages.</summary>
internal static class EventMessages
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
        SetPayload(message, e.Payload, format);
        return message;
    }

    public static Position ToMessage(EventPosition position) =>
        new() { Node = position.Node, CommitLsn = position.CommitLsn, Ordinal = position.Ordinal, EventId = position.EventId };

    private static void SetPayload(Event message, byte[] payload, PayloadFormat format)
    {
        if (format == PayloadFormat.Binary || !TryDecodeUtf8(payload, out var text))
        {
            message.Data = UnsafeByteOperations.UnsafeWrap(payload);
            return;
        }
        if (format == PayloadFormat.Json)
        {
            try
            {
                message.Json = Value.Parser.ParseJson(text);
                return;
            }
            catch (InvalidProtocolBufferException)
            {
                // Not JSON: fall back to text, as documented.
            }
            catch (InvalidJsonException)
            {
            }
        }
        message.Text = text;
    }

    private static bool TryDecodeUtf8(byte[] payload, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(payload);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
