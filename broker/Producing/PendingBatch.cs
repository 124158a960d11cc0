using EventStream.Broker.Topics;

namespace EventStream.Broker.Producing;

/// <summary>One validated produce request waiting for its transaction.</summary>
internal sealed class PendingBatch(TopicInfo topic, IReadOnlyList<EventRow> events, string? producerId, long firstSequence)
{
    private readonly TaskCompletionSource<BatchOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TopicInfo Topic { get; } = topic;

    public IReadOnlyList<EventRow> Events { get; } = events;

    /// <summary>Null when the producer did not ask for idempotence.</summary>
    public string? ProducerId { get; } = producerId;

    public long FirstSequence { get; } = firstSequence;

    /// <summary>When the batch was read (a Stopwatch timestamp), for the ack latency.</summary>
    public long ReceivedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    public Task<BatchOutcome> Outcome => _outcome.Task;

    public void Complete(BatchOutcome outcome) => _outcome.TrySetResult(outcome);

    public void Fail(Exception error) => _outcome.TrySetException(error);
}

/// <summary>Where a batch was stored: event i has id <see cref="FirstEventId"/> + i.</summary>
internal readonly record struct BatchOutcome(long FirstEventId, DateTime IngestTime, bool Duplicate);

/// <summary>One event, ready for COPY.</summary>
internal sealed record EventRow(
    int Shard,
    ReadOnlyMemory<byte>? Key,
    ReadOnlyMemory<byte> Payload,
    string? HeadersJson,
    DateTime? ProducerTime,
    string? ContentType);
