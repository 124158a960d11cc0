using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Consumer;

internal static partial class ConsumerLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Member {MemberId} of group {Group} joined through {Address}; heartbeat every {HeartbeatInterval}.")]
    public static partial void Joined(ILogger logger, string group, string memberId, string address, TimeSpan heartbeatInterval);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Member {MemberId} of group {Group} was assigned shards {Shards}.")]
    public static partial void ShardsAssigned(ILogger logger, string group, string memberId, IReadOnlyList<int> shards);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Member {MemberId} of group {Group} gives up shards {Shards}.")]
    public static partial void ShardsRevoked(ILogger logger, string group, string memberId, IReadOnlyList<int> shards);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Member {MemberId} of group {Group} lost shards {Shards} without handing them over.")]
    public static partial void ShardsLost(ILogger logger, string group, string memberId, IReadOnlyList<int> shards);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "The session of member {MemberId} of group {Group} failed with {StatusCode}; reconnecting in {Delay} (attempt {Attempt}).")]
    public static partial void Reconnecting(ILogger logger, string group, string memberId, StatusCode statusCode, TimeSpan delay, int attempt, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "The broker ended the session of member {MemberId} of group {Group}; joining again in {Delay}.")]
    public static partial void SessionEnded(ILogger logger, string group, string memberId, TimeSpan delay);

    [LoggerMessage(EventId = 107, Level = LogLevel.Error, Message = "Member {MemberId} of group {Group} stopped: {Reason}.")]
    public static partial void Failed(ILogger logger, string group, string memberId, EventStreamErrorReason reason, Exception exception);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Commits of member {MemberId} of group {Group} were rejected for shards {Shards}: the shards moved to another member.")]
    public static partial void CommitsRejected(ILogger logger, string group, string memberId, IReadOnlyList<int> shards);

    [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "A background commit of member {MemberId} of group {Group} failed.")]
    public static partial void BackgroundCommitFailed(ILogger logger, string group, string memberId, Exception exception);

    [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "The {Callback} callback of member {MemberId} of group {Group} failed for shards {Shards}.")]
    public static partial void CallbackFailed(ILogger logger, string callback, string group, string memberId, IReadOnlyList<int> shards, Exception exception);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Member {MemberId} of group {Group} did not leave within {Timeout}; its shards move once its session times out.")]
    public static partial void LeaveTimedOut(ILogger logger, string group, string memberId, TimeSpan timeout);

    [LoggerMessage(EventId = 112, Level = LogLevel.Debug, Message = "Member {MemberId} of group {Group} closed.")]
    public static partial void Closed(ILogger logger, string group, string memberId);

    [LoggerMessage(EventId = 113, Level = LogLevel.Information, Message = "The broker at {Address} does not run group {Group}; member {MemberId} joins through the broker at {Coordinator} in {Delay}.")]
    public static partial void Redirected(ILogger logger, string group, string memberId, string address, Uri coordinator, TimeSpan delay);

    [LoggerMessage(EventId = 114, Level = LogLevel.Information, Message = "Member {MemberId} of group {Group} lost the broker at {Coordinator}; it joins through {Address} again in {Delay}.")]
    public static partial void FallingBack(ILogger logger, string group, string memberId, string coordinator, string address, TimeSpan delay);
}
