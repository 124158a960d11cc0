namespace EventStream.Broker.Producing;

/// <summary>
/// A writer's copy of the sequence state its last commits left, per producer and topic, so a
/// producer's next transaction checks its batches without reading and locking the row first. The
/// commit still verifies the row did not move (<c>advance_producer_sequences</c>), so a stale entry
/// costs a retry, never a wrong verdict. Used by one writer at a time.
/// </summary>
internal sealed class SequenceCache(int capacity)
{
    private readonly Dictionary<(string Producer, int Topic), ProducerSequences> _committed = [];

    /// <summary>Copies of the states of every key, or null when one is not known.</summary>
    public Dictionary<(string Producer, int Topic), ProducerSequences>? TryCopy(IReadOnlyCollection<(string Producer, int Topic)> keys)
    {
        var copies = new Dictionary<(string, int), ProducerSequences>(keys.Count);
        foreach (var key in keys)
        {
            if (!_committed.TryGetValue(key, out var state))
            {
                return null;
            }
            copies[key] = state.Copy();
        }
        return copies;
    }

    /// <summary>Remembers the states a transaction committed.</summary>
    public void Store(Dictionary<(string Producer, int Topic), ProducerSequences> states)
    {
        if (_committed.Count + states.Count > capacity)
        {
            // Many producers come and go: starting over costs each one read of its row.
            _committed.Clear();
        }
        foreach (var (key, state) in states)
        {
            _committed[key] = state.Copy();
        }
    }

    /// <summary>Forgets keys whose stored state is uncertain (a transaction failed).</summary>
    public void Forget(IEnumerable<(string Producer, int Topic)> keys)
    {
        foreach (var key in keys)
        {
            _committed.Remove(key);
        }
    }
}
