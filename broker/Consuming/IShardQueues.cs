namespace EventStream.Broker.Consuming;

/// <summary>The group's shard queues as its slot streams see them; the coordinator implements it under its lock.</summary>
/// <remarks>
/// Events go in under the buffer budget, as the shards' routes across shard moves decide; node -1
/// is the table read.
/// </remarks>
internal interface IShardQueues
{
    int ShardCount { get; }

    /// <summary>
    /// Appends a node's decoded events (or, for node -1, table-read events) as the shards' routes
    /// decide; true when one came from a node no moving shard expects, a move not seen yet.
    /// </summary>
    Task<bool> AppendAsync(IReadOnlyList<StreamedEvent> events, int node, CancellationToken cancellationToken);

    /// <summary>Returns once the budget has room for more of a node's events (-1: the table read, only the group's cap applies).</summary>
    Task WaitForRoomAsync(int node, CancellationToken cancellationToken);

    /// <summary>The group's topic ids and each shard's committed position, taken together.</summary>
    (int[] TopicIds, Dictionary<int, EventPosition> Committed) Committed();

    /// <summary>
    /// The slot was lost and the table is read again from the committed positions: drops what is
    /// buffered, returning the topic ids and positions that read starts from.
    /// </summary>
    (int[] TopicIds, Dictionary<int, EventPosition> Committed) ClearForReread();

    /// <summary>The commit LSN of the oldest event buffered from a node, which its slot must keep; null when none is.</summary>
    ulong? OldestBufferedLsn(int node);

    /// <summary>Every shard's events come from one node for good (a single PostgreSQL).</summary>
    void RouteAllTo(int node);

    /// <summary>
    /// A group starting on Citus: each shard goes from the node of its committed position (any node,
    /// never committed) to its node in <paramref name="placement"/>, after that node's barrier.
    /// </summary>
    void RouteFromCommitted(IReadOnlyList<int> placement, IReadOnlyDictionary<int, ulong> barriers);

    /// <summary>
    /// The nodes that shards not yet switching have moved away from, where barriers are due; shards
    /// in place drop events held from other nodes, which are older than their current node's.
    /// </summary>
    HashSet<int> FindMoves(IReadOnlyList<int> placement);

    /// <summary>Starts switching each moved shard to its new node, after the barrier of the node it leaves (when written).</summary>
    void SwitchMoved(IReadOnlyList<int> placement, IReadOnlyDictionary<int, ulong> barriers);

    /// <summary>A node's stream decoded a barrier written at <paramref name="lsn"/>: shards waiting for it may switch.</summary>
    void BarrierPassed(int node, ulong lsn);

    /// <summary>Whether a shard is routed to, switching to or waiting for a node, or buffers its events.</summary>
    bool NeedsNode(int node);
}
