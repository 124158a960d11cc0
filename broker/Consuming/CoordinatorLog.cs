namespace EventStream.Broker.Consuming;

internal static partial class CoordinatorLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Broker {BrokerId} at {Address} now runs group {Group} (coordinator lease epoch {Epoch}).")]
    public static partial void Acquired(ILogger logger, string group, string brokerId, string address, long epoch);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "This broker lost the coordinator lease of group {Group} (epoch {Epoch}): {Reason} It stops running the group.")]
    public static partial void Lost(ILogger logger, string group, long epoch, string reason);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Renewing the coordinator lease of group {Group} failed; retrying while it lasts ({Remaining} left).")]
    public static partial void RenewFailed(ILogger logger, string group, TimeSpan remaining, Exception exception);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Information, Message = "Released the coordinator lease of group {Group} (epoch {Epoch}).")]
    public static partial void Released(ILogger logger, string group, long epoch);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Warning, Message = "Releasing the coordinator lease of group {Group} failed; it expires by itself.")]
    public static partial void ReleaseFailed(ILogger logger, string group, Exception exception);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Information, Message = "Ended the stream of slot {Slot} (backend {Pid}) that a previous coordinator of group {Group} left behind.")]
    public static partial void EndedStaleStream(ILogger logger, string group, string slot, int pid);

    [LoggerMessage(EventId = 1606, Level = LogLevel.Warning, Message = "Could not end the stream a previous coordinator of group {Group} left on slot {Slot}; streaming starts once PostgreSQL drops it: {Reason}")]
    public static partial void StaleStreamNotEnded(ILogger logger, string group, string slot, string reason);

    [LoggerMessage(EventId = 1607, Level = LogLevel.Debug, Message = "Group {Group} is run by the broker at {Address}; sending its member there.")]
    public static partial void Redirecting(ILogger logger, string group, string address);

    [LoggerMessage(EventId = 1608, Level = LogLevel.Information, Message = "Group {Group} is still leased to an earlier process of this broker at {Address}; its members wait for the lease to expire.")]
    public static partial void HeldByEarlierProcess(ILogger logger, string group, string address);
}
