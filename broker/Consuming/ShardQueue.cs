namespace EventStream.Broker.Consuming;

/// <summary>
/// One shard of a group: its decoded events not yet committed (in delivery order: commit order
/// per node, one node after another across shard moves), how many of them the current owner has
/// received, and where the group last committed. Not thread-safe: the group's lock guards it.
/// </summary>
internal sealed class ShardQueue(int shard)
{
    private readonly List<StreamedEvent> _events = [];
    private readonly Dictionary<int, EventPosition> _lastAppended = [];
    private readonly Dictionary<int, EventPosition> _handedOver = [];
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

    /// <summary>Sets the committed position loaded at start.</summary>
    public void Restore(EventPosition committed) => Committed = committed;

    /// <summary>
    /// The node whose stream delivers the shard's events, with the switch to another node after a
    /// shard move (see <see cref="ShardRoute"/>).
    /// </summary>
    public ShardRoute Route { get; } = new();

    /// <summary>Adds a decoded event unless the group committed past it already (where the positions order at all).</summary>
    public bool TryAppend(StreamedEvent e)
    {
        if (Committed is { } done && e.Position.OrdersWith(done) && e.Position <= done)
        {
            return false;
        }
        if (_lastAppended.TryGetValue(e.Position.Node, out var last) && e.Position <= last)
        {
            // The stream restarted from an earlier flush position and repeats what was buffered.
            return false;
        }
        _events.Add(e);
        _lastAppended[e.Position.Node] = e.Position;
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

    /// <summary>
    /// What the owner received and did not commit may never have arrived (a new session, a failed
    /// send, a Poll answering again from the last commit): the next delivery starts from the
    /// oldest uncommitted event.
    /// </summary>
    public void Redeliver() => Delivered = 0;

    /// <summary>Events the owner has not received yet.</summary>
    public int Undelivered => Count - Delivered;

    /// <summary>
    /// An event the owner has not received yet, <paramref name="offset"/> after the first; it
    /// counts as received only once <see cref="MarkDelivered"/> says so.
    /// </summary>
    public StreamedEvent PeekUndelivered(int offset) => _events[_head + Delivered + offset];

    /// <summary>
    /// The latest position ever handed over per node, to tell a redelivery from a first delivery
    /// in the metrics.
    /// </summary>
    public bool FirstDelivery(EventPosition position)
    {
        if (_handedOver.TryGetValue(position.Node, out var last) && position <= last)
        {
            return false;
        }
        _handedOver[position.Node] = position;
        return true;
    }

    /// <summary>The owner received the next <paramref name="count"/> events.</summary>
    public void MarkDelivered(int count) => Delivered = Math.Min(Count, Delivered + count);

    /// <summary>
    /// Drops the events up to and including a committed position, in queue order (LSNs of
    /// different nodes do not compare); returns what was freed.
    /// </summary>
    public (int Events, long Bytes) Commit(EventPosition position, Action<StreamedEvent>? committed = null)
    {
        var end = _head;
        // A member commits the last event it received, as a rule: look there first.
        var lastDelivered = _head + Delivered - 1;
        if (Delivered > 0 && _events[lastDelivered].Position == position)
        {
            end = lastDelivered + 1;
        }
        else
        {
            for (var i = _head; i < _events.Count; i++)
            {
                if (_events[i].Position == position)
                {
                    end = i + 1;
                    break;
                }
            }
        }
        if (end == _head)
        {
            // Not buffered (an older commit, or one the broker never streamed): drop the leading
            // events that order with it, up to it.
            while (end < _events.Count && _events[end].Position.OrdersWith(position) && _events[end].Position <= position)
            {
                end++;
            }
        }
        if (end > _head || Committed is not { } known || known.Node != position.Node || position > known)
        {
            Committed = position;
        }
        var removed = 0;
        long bytes = 0;
        while (_head < end)
        {
            bytes += _events[_head].Size;
            committed?.Invoke(_events[_head]);
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

    /// <summary>
    /// The group's slot was lost and the table is read again from the committed positions: what
    /// is buffered comes again from there, so it goes now. Returns what was freed.
    /// </summary>
    public (int Events, long Bytes) ClearForReread()
    {
        var freed = (Count, Bytes);
        _events.Clear();
        _head = 0;
        Delivered = 0;
        Bytes = 0;
        _lastAppended.Clear();
        return freed;
    }

    /// <summary>The commit LSN of the oldest buffered event streamed from a node, which its slot must keep.</summary>
    public ulong? OldestStreamedLsn(int node)
    {
        ulong? oldest = null;
        for (var i = _head; i < _events.Count; i++)
        {
            var position = _events[i].Position;
            if (!position.IsBackfill && position.Node == node)
            {
                oldest = position.CommitLsn;
                break;
            }
        }
        return Route.OldestHeldLsn(node) is { } held && (oldest is null || held < oldest) ? held : oldest;
    }

    /// <summary>Whether events of a node are buffered (queued or held).</summary>
    public bool Buffers(int node)
    {
        for (var i = _head; i < _events.Count; i++)
        {
            if (_events[i].Position.Node == node)
            {
                return true;
            }
        }
        return Route.OldestHeldLsn(node) is not null;
    }
}
