namespace EventStream.Broker.Producing;

/// <summary>
/// A writer's copy of the sequence state its last transactions leave, per producer and topic, so a
/// producer's next transaction checks its batches without reading and locking the row first. The
/// commit still verifies the row did not move (<c>advance_producer_sequences</c>), so a stale entry
/// costs a retry, never a wrong verdict. A transaction stores its states once it has checked its
/// batches, before it commits, so the writer's next transaction can go on from them.
/// </summary>
internal sealed class SequenceCache(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Producer, int Topic), ProducerSequences> _states = [];

    /// <summary>Copies of the states of every key, or null when one is not known.</summary>
    public Dictionary<(string Producer, int Topic), ProducerSequences>? TryCopy(IReadOnlyCollection<(string Producer, int Topic)> keys)
    {
        var copies = new Dictionary<(string, int), ProducerSequences>(keys.Count);
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (!_states.TryGetValue(key, out var state))
                {
                    return null;
                }
                copies[key] = state.Copy();
            }
        }
        return copies;
    }

    /// <summary>Remembers the states a transaction will leave if it commits.</summary>
    public void Store(Dictionary<(string Producer, int Topic), ProducerSequences> states)
    {
        lock (_lock)
        {
            if (_states.Count + states.Count > capacity)
            {
                // Many producers come and go: starting over costs each one read of its row.
                _states.Clear();
            }
            foreach (var (key, state) in states)
            {
                _states[key] = state.Copy();
            }
        }
    }

    /// <summary>Forgets keys whose stored state is uncertain (a transaction failed).</summary>
    public void Forget(IEnumerable<(string Producer, int Topic)> keys)
    {
        lock (_lock)
        {
            foreach (var key in keys)
            {
                _states.Remove(key);
            }
        }
    }
}
