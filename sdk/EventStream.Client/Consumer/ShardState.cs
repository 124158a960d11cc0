namespace EventStream.Client.Consumer;

/// <summary>One shard held under one lease epoch: what was received, processed and committed. Guarded by <see cref="ConsumerState"/>'s lock.</summary>
internal sealed class ShardState(int shard, long epoch, EventPosition? committed)
{
    public int Shard { get; } = shard;

    public long Epoch { get; } = epoch;

    /// <summary>The broker asked for the shard back, or took it: its events are no longer returned.</summary>
    public bool Revoked { get; set; }

    /// <summary>
    /// The newest event received under this lease, per node (positions of different nodes do not
    /// compare: after a shard move its events come from another node); older ones arriving again are dropped.
    /// </summary>
    public Dictionary<int, EventPosition> LastReceived { get; } = [];

    /// <summary>Events returned to the application under this lease: the delivery sequence of the last one.</summary>
    public long Returned { get; set; }

    /// <summary>The newest event the application is done with, by delivery order.</summary>
    public EventPosition? Processed { get; set; }

    public long ProcessedSequence { get; set; }

    /// <summary>The newest position the broker recorded.</summary>
    public EventPosition? Committed { get; set; } = committed;

    public long CommittedSequence { get; set; }

    /// <summary>Positions sent in commits, with their delivery sequence, until the broker answers.</summary>
    public Dictionary<EventPosition, long> Committing { get; } = [];

    /// <summary>The processed position when it is ahead of the committed one (by delivery order).</summary>
    public EventPosition? Uncommitted => ProcessedSequence > CommittedSequence ? Processed : null;
}

/// <summary>A change of the member's shards, for the application's callbacks.</summary>
/// <param name="Revoked">True for shards given up or lost; false for shards newly assigned.</param>
/// <param name="Shards">The shards, ascending.</param>
internal readonly record struct ShardNotice(bool Revoked, IReadOnlyList<int> Shards);
