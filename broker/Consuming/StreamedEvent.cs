using Npgsql;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Where an event sits in its node's stream, ordered by (commit LSN, ordinal, event id). LSNs are
/// per node: positions of different nodes do not compare (the comparison ignores
/// <see cref="Node"/>; callers compare positions of one node only). Events read from the table
/// when a group starts, from before its slots' consistent points, have commit LSN 0 and ordinal
/// 0, so they come first, by event id.
/// </summary>
internal readonly record struct EventPosition(ulong CommitLsn, uint Ordinal, long EventId) : IComparable<EventPosition>
{
    /// <summary>The node that committed the event: 0 on a single PostgreSQL, the Citus node id otherwise.</summary>
    public int Node { get; init; }

    public bool IsBackfill => CommitLsn == 0;

    /// <summary>
    /// Whether the two order at all: the same node, and both streamed or both read from the table
    /// (a table read after a lost slot does not order against what was streamed before it).
    /// </summary>
    public bool OrdersWith(EventPosition other) => Node == other.Node && IsBackfill == other.IsBackfill;

    public int CompareTo(EventPosition other)
    {
        var byLsn = CommitLsn.CompareTo(other.CommitLsn);
        if (byLsn != 0)
        {
            return byLsn;
        }
        var byOrdinal = Ordinal.CompareTo(other.Ordinal);
        return byOrdinal != 0 ? byOrdinal : EventId.CompareTo(other.EventId);
    }

    public static bool operator <(EventPosition left, EventPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(EventPosition left, EventPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(EventPosition left, EventPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(EventPosition left, EventPosition right) => left.CompareTo(right) >= 0;
}

/// <summary>An event decoded from the slot (or read from the table at a group's start).</summary>
internal sealed record StreamedEvent(
    int TopicId,
    int Shard,
    long EventId,
    DateTime IngestTime,
    DateTime? ProducerTime,
    byte[]? Key,
    byte[] Payload,
    string? HeadersJson,
    string? ContentType,
    EventPosition Position)
{
    /// <summary>The columns of <c>eventstream.events</c> that <see cref="FromRow"/> reads, in its order.</summary>
    public const string Columns = "topic_id, shard, event_id, ingest_time, producer_time, key, payload, headers::text, content_type";

    /// <summary>An event read from the table (selected as <see cref="Columns"/>): positioned by its id alone, commit LSN 0.</summary>
    public static StreamedEvent FromRow(NpgsqlDataReader reader)
    {
        var eventId = reader.GetInt64(2);
        return new StreamedEvent(
            reader.GetInt32(0),
            reader.GetInt32(1),
            eventId,
            reader.GetDateTime(3),
            reader.IsDBNull(4) ? null : reader.GetDateTime(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5),
            reader.GetFieldValue<byte[]>(6),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8),
            new EventPosition(0, 0, eventId));
    }

    /// <summary>Approximate memory the event holds, for the group's buffer cap.</summary>
    public int Size => 96 + (Key?.Length ?? 0) + Payload.Length + (HeadersJson?.Length ?? 0) * 2;
}
