using System.Text;
using EventStream.Protocol.V1;

namespace EventStream.Client;

/// <summary>
/// An event as a consumer receives it: the producer's key, payload, headers and times, plus where it
/// sits (<see cref="Position"/>) and the lease it came under (<see cref="LeaseEpoch"/>), which a commit needs.
/// </summary>
/// <remarks>The key, payload and headers are views of the received message; they stay valid as long as the event.</remarks>
public sealed class ConsumedEvent
{
    private readonly Event _message;

    internal ConsumedEvent(Event message, long leaseEpoch, long sequence = 0)
    {
        _message = message;
        LeaseEpoch = leaseEpoch;
        Sequence = sequence;
        Position = EventPosition.From(message.Position);
    }

    /// <summary>The event's place in its shard's delivery order under its lease (positions of different nodes do not compare).</summary>
    internal long Sequence { get; }

    /// <summary>The topic.</summary>
    public string Topic => _message.Topic;

    /// <summary>The shard the event is stored in.</summary>
    public int Shard => _message.Shard;

    /// <summary>The event's id, unique within the topic.</summary>
    public long EventId => _message.EventId;

    /// <summary>The key; null for none.</summary>
    public ReadOnlyMemory<byte>? Key => _message.Key.IsEmpty ? null : _message.Key.Memory;

    /// <summary>The body, as the producer sent it.</summary>
    public ReadOnlyMemory<byte> Payload => _message.Data.Memory;

    /// <summary>The headers; empty for none.</summary>
    public IReadOnlyDictionary<string, string> Headers => _message.Headers;

    /// <summary>The MIME type of the payload; null for none.</summary>
    public string? ContentType => _message.ContentType.Length == 0 ? null : _message.ContentType;

    /// <summary>When the broker stored the event.</summary>
    public DateTimeOffset IngestTime => _message.IngestTime?.ToDateTimeOffset() ?? default;

    /// <summary>When the producer created the event; null when it did not say.</summary>
    public DateTimeOffset? ProducerTime => _message.ProducerTime?.ToDateTimeOffset();

    /// <summary>Where the event sits in its shard; committing it acknowledges the shard up to here.</summary>
    public EventPosition Position { get; }

    /// <summary>
    /// The epoch of the shard lease the event was received under. A commit names it, so the broker can
    /// reject commits of a member that lost the shard meanwhile.
    /// </summary>
    public long LeaseEpoch { get; }

    /// <summary>The message as received, for what the SDK does not expose.</summary>
    public Event RawEvent => _message;

    /// <summary>The key decoded as UTF-8; null for none.</summary>
    public string? GetKeyString() => _message.Key.IsEmpty ? null : _message.Key.ToStringUtf8();

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetPayloadString() => Encoding.UTF8.GetString(_message.Data.Span);

    /// <inheritdoc />
    public override string ToString() => $"{Topic}/{Shard}#{EventId}";
}
