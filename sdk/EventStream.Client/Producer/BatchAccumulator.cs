namespace EventStream.Client.Producer;

/// <summary>
/// Collects a topic's events into the open batch, sealing it when it reaches the event or byte limit.
/// Sealing after the linger time is the caller's decision (only when a request could go out), so the
/// open batch keeps growing while the topic's requests are all in flight. Not thread-safe.
/// </summary>
internal sealed class BatchAccumulator(int maxEvents, int maxBytes, TimeSpan linger, TimeSpan deliveryTimeout)
{
    private ProducerBatch? _open;

    /// <summary>The batch still taking events, if any.</summary>
    public ProducerBatch? Open => _open;

    /// <summary>When the open batch has lingered long enough to be sent.</summary>
    public TimeSpan? LingerDue => _open is null ? null : _open.Created + linger;

    /// <summary>Adds an event, appending to <paramref name="sealedBatches"/> the batches it fills.</summary>
    public void Add(PendingEvent pending, TimeSpan now, List<ProducerBatch> sealedBatches)
    {
        if (_open is { } open && open.Bytes + pending.Size > maxBytes)
        {
            // The event does not fit: send what we have and start over with it.
            sealedBatches.Add(open);
            _open = null;
        }
        _open ??= new ProducerBatch(now, now + deliveryTimeout);
        _open.Add(pending);
        if (_open.Count >= maxEvents || _open.Bytes >= maxBytes)
        {
            sealedBatches.Add(_open);
            _open = null;
        }
    }

    /// <summary>Whether the open batch has lingered long enough.</summary>
    public bool IsLingerDue(TimeSpan now) => LingerDue <= now;

    /// <summary>Closes the open batch to new events and returns it, or null when there is none.</summary>
    public ProducerBatch? Seal()
    {
        var open = _open;
        _open = null;
        return open;
    }

    /// <summary>Takes an event back out of the open batch; false once its batch is sealed.</summary>
    public bool TryRemove(PendingEvent pending)
    {
        if (_open is null || pending.Batch != _open || !_open.Remove(pending))
        {
            return false;
        }
        if (_open.Count == 0)
        {
            _open = null;
        }
        return true;
    }
}
