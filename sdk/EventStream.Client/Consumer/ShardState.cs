namespace EventStream.Client.Consumer;

/// <summary>One shard held under one lease epoch: what was received, processed and committed. Guarded by <see cref="ConsumerState"/>'s lock.</summary>
internal sealed class ShardState(int shard, long epoch, EventPosition? committed)
{
    public int Shard { get; } = shard;

    public long Epoch { get; } = epoch;

    /// <summary>The broker asked for the shard back, or took it: its events are no longer returned.</summary>
    public bool Revoked { get; set; }

    /// <summary>The newest event received under this lease; older ones arriving again are dropped.</summary>
    public EventPosition? LastReceived { get; set; }

    /// <summary>The newest event the application is done with.</summary>
    public EventPosition? Processed { get; set; }

    /// <summary>The newest position the broker recorded.</summary>
    public EventPosition? Committed { get; set; } = committed;

    /// <summary>The processed position when it is ahead of the committed one.</summary>
    public EventPosition? Uncommitted => Processed is { } p && (Committed is not { } c || p > c) ? p : null;
}

/// <summary>A change of the member's shards, for the application's callbacks.</summary>
/// <param name="Revoked">True for shards given up or lost; false for shards newly assigned.</param>
/// <param name="Shards">The shards, ascending.</param>
internal readonly record struct ShardNotice(bool Revoked, IReadOnlyList<int> Shards);
