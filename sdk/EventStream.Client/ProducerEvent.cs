using System.Text;

namespace EventStream.Client;

/// <summary>An event to produce: a payload with an optional key, headers, time and content type.</summary>
/// <remarks>
/// The producer copies the key and payload when the event is produced, so the caller may reuse its
/// buffers as soon as <c>ProduceAsync</c> returns its task.
/// </remarks>
/// <param name="Payload">The body, stored as given.</param>
public sealed record ProducerEvent(ReadOnlyMemory<byte> Payload)
{
    /// <summary>Creates an event with a binary payload and key.</summary>
    /// <param name="payload">The body.</param>
    /// <param name="key">The key; null or empty for none.</param>
    public ProducerEvent(ReadOnlyMemory<byte> payload, ReadOnlyMemory<byte>? key)
        : this(payload)
    {
        Key = key;
    }

    /// <summary>Creates an event with a text payload and key, both sent as UTF-8.</summary>
    /// <param name="payload">The body.</param>
    /// <param name="key">The key; null or empty for none.</param>
    public ProducerEvent(string payload, string? key = null)
        : this(Encoding.UTF8.GetBytes(payload ?? throw new ArgumentNullException(nameof(payload))), key is null ? null : Encoding.UTF8.GetBytes(key))
    {
    }

    /// <summary>
    /// The key; null or empty for none. Events with the same key go to the same shard and are stored in
    /// produce order. The broker picks the shard as Kafka's default partitioner picks a partition:
    /// <c>(murmur2(key) &amp; 0x7fffffff) % shardCount</c>, see
    /// <see cref="EventStream.Protocol.Sharding.ShardHash"/>. Keyless events are spread over the shards
    /// by the broker. (An empty key counts as none because a null <c>byte[]</c> converts to an empty
    /// <see cref="ReadOnlyMemory{T}"/>.)
    /// </summary>
    public ReadOnlyMemory<byte>? Key { get; init; }

    /// <summary>Free-form headers, e.g. a trace context; null for none.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>When the event happened; null stamps the time it is produced.</summary>
    public DateTimeOffset? ProducerTime { get; init; }

    /// <summary>The MIME type of the payload, e.g. <c>application/json</c>; null for none.</summary>
    public string? ContentType { get; init; }
}
