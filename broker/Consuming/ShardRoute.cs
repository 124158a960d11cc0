namespace EventStream.Broker.Consuming;

/// <summary>
/// Which node's stream delivers a shard's events. On a single PostgreSQL that is node 0 for
/// good. On Citus a shard moves between nodes: its new events then arrive on the new node's
/// stream while the old node's stream may still hold older ones. Per-shard order is kept by
/// holding the new node's events until the old node's stream has passed a barrier written there
/// after the move was seen (<see cref="SwitchTo"/>), then switching. Not thread-safe: the
/// group's lock guards it.
/// </summary>
internal sealed class ShardRoute
{
    private readonly Dictionary<int, ulong> _waits = [];
    private readonly Dictionary<int, ulong> _leftAt = [];
    private readonly Dictionary<int, List<StreamedEvent>> _held = [];

    /// <summary>The node whose events are delivered; -1 before the first switch completes.</summary>
    public int Current { get; private set; } = -1;

    /// <summary>The node being switched to; -1 when no switch is under way.</summary>
    public int Target { get; private set; } = -1;

    public bool Switching => Target >= 0;

    /// <summary>A switch whose barriers are all passed: call <see cref="Complete"/>.</summary>
    public bool ReadyToComplete => Switching && _waits.Count == 0;

    /// <summary>Events held, of every node.</summary>
    public int HeldCount { get; private set; }

    /// <summary>Whether the route waits for a node's stream to pass a barrier.</summary>
    public bool WaitsFor(int node) => _waits.ContainsKey(node);

    /// <summary>Delivers a node's events from now on, with no switch (a single node, or a node known to be current).</summary>
    public void Start(int node)
    {
        Current = node;
        Target = -1;
        _waits.Clear();
    }

    /// <summary>
    /// Starts a switch to <paramref name="target"/>: its events are held until every node in
    /// <paramref name="waits"/> has passed its barrier LSN (events of those nodes are delivered
    /// meanwhile). With no waits the switch completes at once; the caller then calls <see cref="Complete"/>.
    /// </summary>
    public void SwitchTo(int target, IReadOnlyDictionary<int, ulong> waits)
    {
        Target = target;
        _waits.Clear();
        foreach (var (node, lsn) in waits)
        {
            if (node != target)
            {
                _waits[node] = lsn;
            }
        }
    }

    /// <summary>
    /// What to do with an event of this shard decoded from <paramref name="node"/>'s stream.
    /// <see cref="RouteDecision.Hold"/> keeps it (see <see cref="Hold"/>).
    /// </summary>
    public RouteDecision Decide(StreamedEvent e, int node)
    {
        if (Switching)
        {
            if (node == Target)
            {
                return RouteDecision.Hold;
            }
            if (_waits.ContainsKey(node))
            {
                return RouteDecision.Deliver;
            }
        }
        else if (node == Current)
        {
            return RouteDecision.Deliver;
        }
        if (_leftAt.TryGetValue(node, out var left) && e.Position.CommitLsn < left)
        {
            // Committed on a node before the shard left it, and after a switch away: older than
            // everything delivered since; a repeat after a stream restart.
            return RouteDecision.Drop;
        }
        // From a node the shard moved to, perhaps, before this broker saw the move.
        return RouteDecision.Hold;
    }

    public void Hold(StreamedEvent e, int node)
    {
        if (!_held.TryGetValue(node, out var list))
        {
            _held[node] = list = [];
        }
        list.Add(e);
        HeldCount++;
    }

    /// <summary>Held events of nodes other than the current and target one: unexplained until the topology is read again.</summary>
    public bool HoldsStrays => _held.Keys.Any(n => n != Target && (Switching || n != Current));

    /// <summary>
    /// A node's stream passed a barrier: it holds nothing more of this shard from before the
    /// barrier. True when that completed the switch (call <see cref="Complete"/>).
    /// </summary>
    public bool BarrierPassed(int node, ulong lsn)
    {
        if (_waits.TryGetValue(node, out var barrier) && barrier <= lsn)
        {
            _waits.Remove(node);
            _leftAt[node] = barrier;
        }
        return Switching && _waits.Count == 0;
    }

    /// <summary>Ends the switch: the target becomes current; returns its held events, to deliver in order.</summary>
    public List<StreamedEvent> Complete()
    {
        if (Current >= 0 && Current != Target && !_leftAt.ContainsKey(Current))
        {
            // Left without a barrier (the node is gone): nothing later can come from it.
            _leftAt[Current] = ulong.MaxValue;
        }
        Current = Target;
        Target = -1;
        _waits.Clear();
        _leftAt.Remove(Current);
        return Release(Current);
    }

    /// <summary>
    /// The topology says the shard is on <paramref name="placed"/> and no switch is under way:
    /// events held from other nodes are older than the current node's, and go.
    /// </summary>
    public (int Events, long Bytes) DropStrays(int placed)
    {
        var events = 0;
        long bytes = 0;
        foreach (var node in _held.Keys.Where(n => n != placed && n != Current && n != Target).ToList())
        {
            var list = Release(node);
            events += list.Count;
            bytes += list.Sum(e => (long)e.Size);
        }
        return (events, bytes);
    }

    /// <summary>How many events are held per node.</summary>
    public IEnumerable<(int Node, int Count)> HeldPerNode() => _held.Select(h => (h.Key, h.Value.Count));

    /// <summary>The commit LSN of the oldest event held from a node, which its slot must keep.</summary>
    public ulong? OldestHeldLsn(int node) =>
        _held.TryGetValue(node, out var list) && list.Count > 0 ? list.Min(e => e.Position.CommitLsn) : null;

    private List<StreamedEvent> Release(int node)
    {
        if (!_held.Remove(node, out var list))
        {
            return [];
        }
        HeldCount -= list.Count;
        return list;
    }
}

internal enum RouteDecision
{
    Deliver,
    Hold,
    Drop,
}
