namespace EventStream.Broker.Consuming;

internal static partial class GroupLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Group {Group} is streaming its slot.")]
    public static partial void Streaming(ILogger logger, string group);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Streaming group {Group} failed; retrying.")]
    public static partial void StreamFailed(ILogger logger, string group, Exception exception);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Created replication slot {Slot} for group {Group}.")]
    public static partial void SlotCreated(ILogger logger, string group, string slot);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Group {Group} read {Count} events from the table (under the slot's snapshot: {WithSnapshot}).")]
    public static partial void BackfillRead(ILogger logger, string group, int count, bool withSnapshot);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "Balancing member {Member} of group {Group} failed: {Reason}")]
    public static partial void BalanceFailed(ILogger logger, string group, string member, string reason);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Group {Group} stopped.")]
    public static partial void Stopped(ILogger logger, string group);
}
