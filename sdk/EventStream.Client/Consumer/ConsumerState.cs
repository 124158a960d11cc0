using EventStream.Client.Producer;
using EventStream.Protocol.V1;

namespace EventStream.Client.Consumer;

/// <summary>
/// What a consumer holds between the broker and the application: its shards with their positions, the
/// received events not yet returned (in arrival order, which is commit order per shard) and the shard
/// changes not yet reported. The connection's reader fills it; the consuming loop drains it. Thread-safe.
/// </summary>
internal sealed class ConsumerState(int maxBuffered)
{
    /// <summary>
    /// Processed events after which auto-commit does not wait for its interval: the broker holds a
    /// group's uncommitted events in a bounded buffer and stops reading when it is full.
    /// </summary>
    public const int EagerCommitEvents = 5_000;

    private readonly Lock _lock = new();
    private TaskCompletionSource _commitDue = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _processedSinceCommit;
    private readonly Dictionary<int, ShardState> _shards = [];
    private readonly Queue<ShardNotice> _notices = new();
    private Queue<BufferedBatch> _batches = new();
    private int _buffered;

    /// <summary>Set when there is something for the consuming loop: events, shard changes, a failure, closing.</summary>
    public WakeSignal Consumable { get; } = new();

    /// <summary>Set when buffered events drop below the cap.</summary>
    public WakeSignal Room { get; } = new();

    public int Buffered => Volatile.Read(ref _buffered);

    public bool HasRoom => Buffered < maxBuffered;

    /// <summary>The shards held and not revoked, ascending.</summary>
    public IReadOnlyList<int> Assignment
    {
        get
        {
            lock (_lock)
            {
                return _shards.Values.Where(s => !s.Revoked).Select(s => s.Shard).Order().ToList();
            }
        }
    }

    /// <summary>The broker's full set of leases: adds new shards and drops those gone or re-leased.</summary>
    /// <returns>The shards newly assigned and those lost without a revocation first.</returns>
    public (List<int> Assigned, List<int> Lost) OnAssigned(IEnumerable<ShardLease> leases)
    {
        var incoming = leases.ToDictionary(l => l.Shard);
        var assigned = new List<int>();
        var lost = new List<int>();
        lock (_lock)
        {
            foreach (var state in _shards.Values.ToList())
            {
                if (incoming.TryGetValue(state.Shard, out var lease) && lease.Epoch == state.Epoch)
                {
                    continue;
                }
                if (!state.Revoked)
                {
                    lost.Add(state.Shard);
                }
                Remove(state);
            }
            foreach (var lease in incoming.Values.OrderBy(l => l.Shard))
            {
                if (!_shards.ContainsKey(lease.Shard))
                {
                    _shards[lease.Shard] = new ShardState(lease.Shard, lease.Epoch, lease.Committed is null ? null : EventPosition.From(lease.Committed));
                    assigned.Add(lease.Shard);
                }
            }
            lost.Sort();
            Notify(true, lost);
            Notify(false, assigned);
        }
        Consumable.Set();
        return (assigned, lost);
    }

    /// <summary>The broker asks for shards back: their buffered events are dropped, none is returned any more.</summary>
    /// <returns>The shards that were held and not revoked already.</returns>
    public List<int> OnRevoked(IEnumerable<int> shards)
    {
        var revoked = new List<int>();
        lock (_lock)
        {
            foreach (var shard in shards.Distinct().Order())
            {
                if (_shards.TryGetValue(shard, out var state) && !state.Revoked)
                {
                    state.Revoked = true;
                    Purge(state);
                    revoked.Add(shard);
                }
            }
            Notify(true, revoked);
        }
        Consumable.Set();
        Room.Set();
        return revoked;
    }

    /// <summary>Buffers a batch of a current lease; drops events of old leases and repeats of events already received.</summary>
    /// <returns>How many events were buffered.</returns>
    public int OnEvents(EventBatch batch)
    {
        if (batch.Events.Count == 0)
        {
            return 0;
        }
        int count;
        lock (_lock)
        {
            if (!_shards.TryGetValue(batch.Shard, out var state) || batch.Epoch > state.Epoch)
            {
                // Events are proof of a lease whose assignment we have not seen: take them rather than lose them.
                if (state is not null)
                {
                    Remove(state);
                }
                state = new ShardState(batch.Shard, batch.Epoch, null);
                _shards[batch.Shard] = state;
                Notify(false, [batch.Shard]);
            }
            if (batch.Epoch != state.Epoch || state.Revoked)
            {
                return 0;
            }
            IReadOnlyList<Event> events = batch.Events;
            if (events.Any(e => IsRepeat(state, EventPosition.From(e.Position))))
            {
                events = events.Where(e => !IsRepeat(state, EventPosition.From(e.Position))).ToList();
            }
            if (events.Count == 0)
            {
                return 0;
            }
            foreach (var e in events)
            {
                var position = EventPosition.From(e.Position);
                state.LastReceived[position.Node] = position;
            }
            _batches.Enqueue(new BufferedBatch(state, events));
            _buffered += events.Count;
            count = events.Count;
        }
        Consumable.Set();
        return count;
    }

    /// <summary>The next shard change to report, if any.</summary>
    public bool TryTakeNotice(out ShardNotice notice)
    {
        lock (_lock)
        {
            return _notices.TryDequeue(out notice);
        }
    }

    /// <summary>The next event to return, or null when none is buffered.</summary>
    public ConsumedEvent? TryTakeEvent()
    {
        ConsumedEvent? taken = null;
        bool freed;
        lock (_lock)
        {
            var before = _buffered;
            while (taken is null && _batches.TryPeek(out var batch))
            {
                if (!IsCurrent(batch.State))
                {
                    _batches.Dequeue();
                    _buffered -= batch.Remaining;
                    continue;
                }
                taken = new ConsumedEvent(batch.Events[batch.Next++], batch.State.Epoch, ++batch.State.Returned);
                _buffered--;
                if (batch.Remaining == 0)
                {
                    _batches.Dequeue();
                }
            }
            freed = before >= maxBuffered && _buffered < maxBuffered;
        }
        if (freed)
        {
            Room.Set();
        }
        return taken;
    }

    /// <summary>The application is done with an event: its shard may be committed up to it (if its lease is current).</summary>
    public void MarkProcessed(ConsumedEvent e)
    {
        lock (_lock)
        {
            if (_shards.TryGetValue(e.Shard, out var state) && state.Epoch == e.LeaseEpoch && e.Sequence > state.ProcessedSequence)
            {
                state.Processed = e.Position;
                state.ProcessedSequence = e.Sequence;
                if (++_processedSinceCommit >= EagerCommitEvents)
                {
                    _commitDue.TrySetResult();
                }
            }
        }
    }

    /// <summary>A commit of one event is about to be sent: remembers its place in delivery order.</summary>
    public void MarkCommitting(ConsumedEvent e)
    {
        lock (_lock)
        {
            if (_shards.TryGetValue(e.Shard, out var state) && state.Epoch == e.LeaseEpoch)
            {
                state.Committing[e.Position] = e.Sequence;
            }
        }
    }

    /// <summary>Completes once <see cref="EagerCommitEvents"/> events were processed since the last full commit.</summary>
    public Task CommitDue
    {
        get
        {
            lock (_lock)
            {
                return _commitDue.Task;
            }
        }
    }

    /// <summary>Commits for the processed positions not committed yet, of the given shards or all.</summary>
    public List<ShardCommit> Uncommitted(IReadOnlyCollection<int>? shards = null)
    {
        var commits = new List<ShardCommit>();
        lock (_lock)
        {
            if (shards is null)
            {
                _processedSinceCommit = 0;
                if (_commitDue.Task.IsCompleted)
                {
                    _commitDue = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
            foreach (var state in _shards.Values.OrderBy(s => s.Shard))
            {
                if ((shards is null || shards.Contains(state.Shard)) && state.Uncommitted is { } position)
                {
                    state.Committing[position] = state.ProcessedSequence;
                    commits.Add(new ShardCommit { Shard = state.Shard, Epoch = state.Epoch, Position = position.ToMessage() });
                }
            }
        }
        return commits;
    }

    /// <summary>The broker recorded a commit.</summary>
    public void OnCommitted(ShardCommit commit)
    {
        var position = EventPosition.From(commit.Position);
        lock (_lock)
        {
            if (_shards.TryGetValue(commit.Shard, out var state) && state.Epoch == commit.Epoch
                && state.Committing.Remove(position, out var sequence) && sequence > state.CommittedSequence)
            {
                state.Committed = position;
                state.CommittedSequence = sequence;
                foreach (var older in state.Committing.Where(c => c.Value <= sequence).Select(c => c.Key).ToList())
                {
                    state.Committing.Remove(older);
                }
            }
        }
    }

    /// <summary>The newest committed position of a shard held under an epoch, for tests and diagnostics.</summary>
    public EventPosition? CommittedOf(int shard)
    {
        lock (_lock)
        {
            return _shards.TryGetValue(shard, out var state) ? state.Committed : null;
        }
    }

    /// <summary>
    /// Received already under the lease: the node's stream repeats (positions compare per node
    /// only). Events read from the table (commit LSN 0) compare only with each other: after the
    /// group's slot was lost, the table is read again past events already streamed.
    /// </summary>
    private static bool IsRepeat(ShardState state, EventPosition position) =>
        state.LastReceived.TryGetValue(position.Node, out var last)
        && (position.CommitLsn == 0) == (last.CommitLsn == 0)
        && position <= last;

    private bool IsCurrent(ShardState state) =>
        !state.Revoked && _shards.TryGetValue(state.Shard, out var current) && ReferenceEquals(current, state);

    private void Remove(ShardState state)
    {
        _shards.Remove(state.Shard);
        Purge(state);
    }

    private void Purge(ShardState state)
    {
        if (!_batches.Any(b => ReferenceEquals(b.State, state)))
        {
            return;
        }
        var kept = new Queue<BufferedBatch>(_batches.Count);
        foreach (var batch in _batches)
        {
            if (ReferenceEquals(batch.State, state))
            {
                _buffered -= batch.Remaining;
            }
            else
            {
                kept.Enqueue(batch);
            }
        }
        _batches = kept;
        Room.Set();
    }

    private void Notify(bool revoked, List<int> shards)
    {
        if (shards.Count > 0)
        {
            _notices.Enqueue(new ShardNotice(revoked, shards));
        }
    }

    private sealed class BufferedBatch(ShardState state, IReadOnlyList<Event> events)
    {
        public ShardState State { get; } = state;

        public IReadOnlyList<Event> Events { get; } = events;

        public int Next { get; set; }

        public int Remaining => Events.Count - Next;
    }
}
