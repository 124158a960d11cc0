namespace EventStream.Broker.Consuming;

/// <summary>
/// One shard of a group: its decoded events not yet committed (in position order), how many of
/// them the current owner has received, and where the group last committed. Not thread-safe:
/// the group's lock guards it.
/// </summary>
internal sealed class ShardQueue(int shard)
{
    private readonly List<StreamedEvent> _events = [];
    private int _head;

    public int Shard { get; } = shard;

    /// <summary>The member holding the shard's lease, as far as this broker knows.</summary>
    public string? Owner { get; private set; }

    public long Epoch { get; private set; }

    /// <summary>True while the owner is handing the shard over: it receives nothing new.</summary>
    public bool Revoking { get; set; }

    public long RevokingSince { get; set; }

    public EventPosition? Committed { get; private set; }

    /// <summary>Events the owner has received and not committed.</summary>
    public int Delivered { get; private set; }

    public int Count => _events.Count - _head;

    public long Bytes { get; private set; }

    public bool HasUndelivered => Count > Delivered;

    /// <summary>Sets the committed position loaded at start.</summary>
    public void Restore(EventPosition committed) => Committed = committed;

    /// <summary>Adds a decoded event unless the group committed past it already.</summary>
    public bool TryAppend(StreamedEvent e)
    {
        if (Committed is { } done && e.Position <= done)
        {
            return false;
        }
        if (Count > 0 && e.Position <= _events[^1].Position)
        {
            // The stream restarted from an earlier flush position and repeats what is buffered.
            return false;
        }
        _events.Add(e);
        Bytes += e.Size;
        return true;
    }

    /// <summary>Gives the shard to a member under an epoch; a new owner starts from the oldest uncommitted event.</summary>
    public void Assign(string? owner, long epoch)
    {
        if (owner == Owner && epoch == Epoch)
        {
            return;
        }
        Owner = owner;
        Epoch = epoch;
        Delivered = 0;
        Revoking = false;
    }

    /// <summary>The owner reconnected: what it had received and not committed may be lost, so send it again.</summary>
    public void Redeliver() => Delivered = 0;

    /// <summary>The next events for the owner, marked as received.</summary>
    public List<StreamedEvent> TakeUndelivered(int max)
    {
        var start = _head + Delivered;
        var count = Math.Min(max, _events.Count - start);
        var taken = _events.GetRange(start, count);
        Delivered += count;
        return taken;
    }

    /// <summary>Drops the events up to and including a committed position; returns what was freed.</summary>
    public (int Events, long Bytes) Commit(EventPosition position)
    {
        if (Committed is null || position > Committed.Value)
        {
            Committed = position;
        }
        var removed = 0;
        long bytes = 0;
        while (_head < _events.Count && _events[_head].Position <= position)
        {
            bytes += _events[_head].Size;
            _events[_head] = null!;
            _head++;
            removed++;
        }
        Delivered = Math.Max(0, Delivered - removed);
        Bytes -= bytes;
        if (_head > 1024 && _head * 2 > _events.Count)
        {
            _events.RemoveRange(0, _head);
            _head = 0;
        }
        return (removed, bytes);
    }

    /// <summary>The commit LSN of the oldest buffered streamed event, which the slot must keep.</summary>
    public ulong? OldestStreamedLsn()
    {
        for (var i = _head; i < _events.Count; i++)
        {
            if (!_events[i].Position.IsBackfill)
            {
                return _events[i].Position.CommitLsn;
            }
        }
        return null;
    }
}
