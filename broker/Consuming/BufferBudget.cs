namespace EventStream.Broker.Consuming;

/// <summary>
/// A group's buffer budget: the uncommitted events and bytes its shard queues hold, and the events
/// each node's stream holds back during shard moves. Slot readers stop while the budget is spent;
/// commits and released holds make room. Not thread-safe: the coordinator uses it under its lock.
/// </summary>
internal sealed class BufferBudget(int maxEvents, long maxBytes)
{
    private readonly Dictionary<int, int> _heldByNode = [];
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Events { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>An event entered a shard queue.</summary>
    public void Add(int bytes)
    {
        Events++;
        Bytes += bytes;
    }

    /// <summary>Committed events left the queues.</summary>
    public void Free(int events, long bytes)
    {
        Events -= events;
        Bytes -= bytes;
        if (HasRoom)
        {
            _room.TrySetResult();
        }
    }

    /// <summary>A node's stream held an event back: its shard is moving.</summary>
    public void Hold(int node) => _heldByNode[node] = _heldByNode.GetValueOrDefault(node) + 1;

    /// <summary>Held events of a node left the hold, delivered or dropped.</summary>
    public void Unhold(int node, int events)
    {
        _heldByNode[node] = Math.Max(0, _heldByNode.GetValueOrDefault(node) - events);
        _room.TrySetResult();
    }

    /// <summary>Counts the held events again, after strays were dropped from several nodes at once.</summary>
    public void RecountHeld(IEnumerable<(int Node, int Count)> held)
    {
        _heldByNode.Clear();
        foreach (var (node, count) in held)
        {
            _heldByNode[node] = _heldByNode.GetValueOrDefault(node) + count;
        }
        _room.TrySetResult();
    }

    /// <summary>
    /// Null when a reader of <paramref name="node"/> (-1: a table read, which only the group's cap
    /// limits) may go on; otherwise a task that completes when room may have been made.
    /// </summary>
    public Task? WaitFor(int node)
    {
        if (HasRoom && (node < 0 || _heldByNode.GetValueOrDefault(node) < maxEvents))
        {
            return null;
        }
        if (_room.Task.IsCompleted)
        {
            _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        return _room.Task;
    }

    private bool HasRoom => Events < maxEvents && Bytes < maxBytes;
}
