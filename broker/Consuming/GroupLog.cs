namespace EventStream.Broker.Consuming;

/// <summary>Log messages of consumer groups on this broker (event ids 1500–1599).</summary>
internal static partial class GroupLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Group {Group} is streaming its slot on node {Node}.")]
    public static partial void Streaming(ILogger logger, string group, int node);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Streaming group {Group} from node {Node} failed; retrying.")]
    public static partial void StreamFailed(ILogger logger, string group, int node, Exception exception);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Created replication slot {Slot} for group {Group} on node {Node}.")]
    public static partial void SlotCreated(ILogger logger, string group, string slot, int node);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Group {Group} read {Count} events from the table (under the slot's snapshot: {WithSnapshot}).")]
    public static partial void BackfillRead(ILogger logger, string group, int count, bool withSnapshot);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "Balancing member {Member} of group {Group} failed: {Reason}")]
    public static partial void BalanceFailed(ILogger logger, string group, string member, string reason);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Group {Group} stopped.")]
    public static partial void Stopped(ILogger logger, string group);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Warning, Message = "Reading the cluster's nodes for group {Group} failed; retrying.")]
    public static partial void TopologyFailed(ILogger logger, string group, Exception exception);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Information, Message = "Group {Group}: shard {Shard} moved from node {From} to node {To}; switching once node {From} is drained.")]
    public static partial void ShardMoved(ILogger logger, string group, int shard, int from, int to);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Information, Message = "Group {Group}: dropped the slot on node {Node}, which holds no shards any more.")]
    public static partial void SlotDropped(ILogger logger, string group, int node);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Warning, Message = "Group {Group}: sending to member {Member} failed; its session ended and the events it did not commit will be delivered again.")]
    public static partial void SendFailed(ILogger logger, string group, string member, Exception exception);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Error, Message = "Group {Group}: a message of {Size} bytes for member {Member} (shard {Shard}, event {EventId}) exceeds the send limit of {Limit} bytes (EventStream:Grpc:MaxSendMessageSize); the event cannot be delivered until the limit is raised.")]
    public static partial void MessageTooLarge(ILogger logger, string group, string member, int shard, long eventId, int size, int limit);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Information, Message = "Group {Group}: the server of node {Node} is shutting down; its stream closed and reconnects when the server is back.")]
    public static partial void StreamClosedForShutdown(ILogger logger, string group, int node);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Warning, Message = "Group {Group}: replication slot {Slot} was invalidated (it fell behind max_slot_wal_keep_size); dropping it.")]
    public static partial void SlotInvalidated(ILogger logger, string group, string slot);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Warning, Message = "Group {Group}: its replication slot is gone (a failover, an invalidation or a drop); a new one is made and the events after its committed positions are read again from the table, from {From:o}. Members may receive some events twice.")]
    public static partial void SlotLost(ILogger logger, string group, DateTime from);
}
