using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Producer;

internal static partial class ProducerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Producer {ProducerId} started for {Address}.")]
    public static partial void Started(ILogger logger, string producerId, string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Trace, Message = "Sending {Count} events to {Topic} from sequence {FirstSequence}, attempt {Attempt}.")]
    public static partial void Sending(ILogger logger, string topic, int count, long firstSequence, int attempt);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Batch of {Count} events to {Topic} from sequence {FirstSequence} failed with {StatusCode}; retry {Retry} in {Delay}.")]
    public static partial void Retrying(ILogger logger, string topic, int count, long firstSequence, StatusCode statusCode, int retry, TimeSpan delay);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Giving up on {Count} events to {Topic} from sequence {FirstSequence}: {Reason}.")]
    public static partial void GaveUp(ILogger logger, string topic, int count, long firstSequence, EventStreamErrorReason reason, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "The broker expects sequence numbers for {Topic} that will not come; restarting them as producer {NewProducerId}.")]
    public static partial void SequencesRestarted(ILogger logger, string topic, string newProducerId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Producer {ProducerId} closed before its events were acknowledged: flushing took longer than {Timeout}.")]
    public static partial void FlushOnCloseTimedOut(ILogger logger, string producerId, TimeSpan timeout);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Producer {ProducerId} closed.")]
    public static partial void Closed(ILogger logger, string producerId);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "The producer's loop for {Topic} failed unexpectedly; it carries on.")]
    public static partial void LoopFailed(ILogger logger, string topic, Exception exception);
}
