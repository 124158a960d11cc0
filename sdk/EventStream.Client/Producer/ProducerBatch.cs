namespace EventStream.Client.Producer;

/// <summary>
/// Events sent together in one request. Once sealed a batch keeps its events; its sequence numbers
/// and producer id change only when the topic's sequences restart.
/// </summary>
internal sealed class ProducerBatch(TimeSpan created, TimeSpan deadline)
{
    private readonly List<PendingEvent> _events = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When the first event arrived (monotonic time).</summary>
    public TimeSpan Created { get; } = created;

    /// <summary>When the batch fails if it is not acknowledged.</summary>
    public TimeSpan Deadline { get; } = deadline;

    public IReadOnlyList<PendingEvent> Events => _events;

    public int Count => _events.Count;

    /// <summary>The bytes the events add to a request.</summary>
    public int Bytes { get; private set; }

    /// <summary>The producer id sent with the batch; empty without idempotence.</summary>
    public string ProducerId { get; set; } = "";

    /// <summary>The batch's number among its topic's batches, in sealing order.</summary>
    public long Ordinal { get; set; } = -1;

    /// <summary>The sequence number of the first event; assigned when the batch is sealed.</summary>
    public long FirstSequence { get; set; } = -1;

    /// <summary>Requests sent so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Retries counted against the retry limit.</summary>
    public int Retries { get; set; }

    /// <summary>The batch may not be sent before this time.</summary>
    public TimeSpan RetryAt { get; set; }

    public bool InFlight { get; set; }

    /// <summary>The failure of the last attempt, if any.</summary>
    public Exception? LastError { get; set; }

    /// <summary>Completes once every event of the batch is acknowledged or has failed.</summary>
    public Task Done => _done.Task;

    public void Add(PendingEvent pending)
    {
        _events.Add(pending);
        Bytes += pending.Size;
        pending.Batch = this;
    }

    public bool Remove(PendingEvent pending)
    {
        if (!_events.Remove(pending))
        {
            return false;
        }
        Bytes -= pending.Size;
        pending.Batch = null;
        return true;
    }

    public void Complete(IReadOnlyList<DeliveryResult> deliveries)
    {
        for (var i = 0; i < _events.Count; i++)
        {
            _events[i].Complete(deliveries[i]);
        }
        _done.TrySetResult();
    }

    public void Fail(Exception error)
    {
        foreach (var pending in _events)
        {
            pending.Fail(error);
        }
        _done.TrySetResult();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Count} events from sequence {FirstSequence}";
}
