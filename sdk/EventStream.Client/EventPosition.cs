using EventStream.Protocol.V1;

namespace EventStream.Client;

/// <summary>
/// Where an event sits in its shard's stream; committing a position acknowledges every event of the
/// shard delivered up to and including it. Positions of one node are ordered by
/// (<see cref="CommitLsn"/>, <see cref="Ordinal"/>, <see cref="EventId"/>). LSNs are per node: on
/// Citus a shard's events come from another node after the shard moved, and positions of different
/// nodes do not compare (<see cref="CompareTo"/> ignores <see cref="Node"/>); their order is the
/// order of delivery.
/// </summary>
/// <param name="Node">The PostgreSQL node that stored the event (0 on a single node).</param>
/// <param name="CommitLsn">The commit LSN of the transaction that stored it; 0 for events read from the table when a group started.</param>
/// <param name="Ordinal">The event's ordinal within that transaction.</param>
/// <param name="EventId">The event's id.</param>
public readonly record struct EventPosition(int Node, ulong CommitLsn, uint Ordinal, long EventId) : IComparable<EventPosition>
{
    /// <inheritdoc />
    public int CompareTo(EventPosition other)
    {
        var c = CommitLsn.CompareTo(other.CommitLsn);
        if (c != 0)
        {
            return c;
        }
        c = Ordinal.CompareTo(other.Ordinal);
        return c != 0 ? c : EventId.CompareTo(other.EventId);
    }

    /// <summary>Whether <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    public static bool operator <(EventPosition left, EventPosition right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    public static bool operator >(EventPosition left, EventPosition right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> comes before or is <paramref name="right"/>.</summary>
    public static bool operator <=(EventPosition left, EventPosition right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> comes after or is <paramref name="right"/>.</summary>
    public static bool operator >=(EventPosition left, EventPosition right) => left.CompareTo(right) >= 0;

    internal static EventPosition From(Position? position) =>
        position is null ? default : new EventPosition(position.Node, position.CommitLsn, position.Ordinal, position.EventId);

    internal Position ToMessage() => new() { Node = Node, CommitLsn = CommitLsn, Ordinal = Ordinal, EventId = EventId };
}
