// Owns the figures read from the database for the metrics: lag per group and shard, groups, slots.
namespace EventStream.Broker.Telemetry;

/// <summary>One read of the database's state, replaced whole by each collection.</summary>
internal sealed record DatabaseSnapshot(
    IReadOnlyList<ShardLag> Lag,
    IReadOnlyList<GroupFigures> Groups,
    IReadOnlyList<SlotFigures> Slots,
    DateTime ReadAt)
{
    public static readonly DatabaseSnapshot Empty = new([], [], [], DateTime.MinValue);
}

/// <summary>A group's uncommitted events on one shard; <see cref="OldestTime"/> is null when there are none.</summary>
internal sealed record ShardLag(string Group, int Shard, long Events, long Bytes, DateTime? OldestTime);

/// <summary>
/// A group's live members, its lease changes (the sum of its shard leases' epochs, which grow with
/// every change of owner) and its coordinator changes (the coordinator lease's epoch).
/// </summary>
internal sealed record GroupFigures(string Group, long Members, long LeaseChanges, long CoordinatorChanges);

/// <summary>
/// An EventStream replication slot on a node, with its group (empty for a slot whose group is
/// gone): WAL it holds back, whether streamed, whether invalidated.
/// </summary>
internal sealed record SlotFigures(string Slot, string Group, int Node, long WalRetainedBytes, bool Active, bool Invalidated);
