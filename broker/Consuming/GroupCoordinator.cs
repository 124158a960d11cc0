using System.Runtime.InteropServices;
using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using EventStream.Broker.Telemetry;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

/// <summary>Runs one consumer group on this broker: starts and stops it, and holds the one lock over its shard queues and members.</summary>
/// <remarks>
/// Balances shard leases among the members (<c>.Leases</c>) and hands each shard's events to the
/// member holding it (<c>.Delivery</c>). Its slot streams (<see cref="GroupSlotStreams"/>) fill the
/// queues (<c>.ShardQueues</c>); commits empty them. The members' sessions are
/// <see cref="GroupMembers"/>: one lock covers them and the queues, so a member leaving and its
/// shards being released (or redelivered) are one step.
/// </remarks>
internal sealed partial class GroupCoordinator : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly GroupStore _store;
    private readonly ConsumeOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ShardQueue[] _shards;
    private readonly GroupMembers _members;
    private readonly CancellationTokenSource _stopping = new();
    private readonly GroupSlotStreams _streams;
    private readonly GroupTopics _topics;
    private readonly BrokerMetrics _metrics;
    private readonly BufferBudget _budget;
    private Task _running = Task.CompletedTask;

    public GroupCoordinator(string group, TopicPatterns patterns, int shardCount, GroupStore store, ConsumeOptions options,
        ClusterTopology topology, ServerShutdowns shutdowns, TimeProvider timeProvider, ILogger logger, BrokerMetrics metrics)
    {
        _metrics = metrics;
        Group = group;
        _topics = new GroupTopics(store, patterns, timeProvider);
        _budget = new BufferBudget(options.MaxBufferedEvents, options.MaxBufferedBytes);
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _shards = Enumerable.Range(0, shardCount).Select(s => new ShardQueue(s)).ToArray();
        _members = new GroupMembers(_shards, timeProvider);
        _streams = new GroupSlotStreams(
            new GroupStreamContext(group, this, store, options, topology, shutdowns, timeProvider, logger), _stopping.Token);
    }

    public string Group { get; }

    /// <summary>
    /// Completes once the group's slot exists: from then on every event committed reaches the
    /// group. Creating a slot waits for transactions in flight, so a group's first start may take
    /// a few seconds.
    /// </summary>
    public Task SlotReady => _streams.SlotReady;

    /// <summary>When a member was last attached (stopwatch timestamp), for stopping idle groups.</summary>
    public long LastActive
    {
        get
        {
            lock (_gate)
            {
                return _members.LastActive;
            }
        }
    }

    public bool HasMembers
    {
        get
        {
            lock (_gate)
            {
                return _members.Count > 0;
            }
        }
    }

    /// <summary>Whether a member may attach: it is here already, or the group has fewer than <paramref name="maxMembers"/>.</summary>
    public bool HasRoomFor(string memberId, int maxMembers)
    {
        lock (_gate)
        {
            return _members.HasRoomFor(memberId, maxMembers);
        }
    }

    /// <summary>Loads the group's committed positions and starts streaming.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var positions = await _store.LoadPositionsAsync(Group, cancellationToken);
        foreach (var (shard, position) in positions)
        {
            if (shard < _shards.Length)
            {
                _shards[shard].Restore(position);
            }
        }
        await _topics.RefreshAsync(cancellationToken);
        await _streams.StartAsync(cancellationToken);
        _running = Task.Run(() => RunBalancerAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Adds (or finds) a member on this broker; the group reads the topics of its patterns too.</summary>
    public ConnectedMember Attach(string memberId, TimeSpan sessionTimeout, bool streaming, TopicPatterns patterns)
    {
        lock (_gate)
        {
            _topics.Resubscribe(patterns);
            return _members.Attach(memberId, sessionTimeout, streaming);
        }
    }

    /// <summary>
    /// A member's session ended without leaving (the connection broke, or a send to it failed):
    /// what it did not commit goes out again; its leases expire unless it comes back.
    /// </summary>
    public void Detach(ConnectedMember member, int session)
    {
        lock (_gate)
        {
            _members.Detach(member, session);
        }
    }

    /// <summary>A clean leave: the member's shards go to others at once.</summary>
    public async Task LeaveAsync(string memberId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _members.Leave(memberId);
        }
        await _store.LeaveAsync(Group, memberId, cancellationToken);
    }

    /// <summary>The member was heard from: its session stays alive.</summary>
    public void Touch(ConnectedMember member)
    {
        lock (_gate)
        {
            _members.Touch(member);
        }
    }

    /// <summary>Records commits; a commit under a stale epoch is rejected with FAILED_PRECONDITION.</summary>
    public Task<CommitResponse> CommitAsync(string memberId, IEnumerable<ShardCommit> commits, CancellationToken cancellationToken) =>
        _store.CommitAllAsync(Group, memberId, commits, _shards.Length, (shard, position) =>
        {
            // Committed events leave the buffer: room for the slot reader again. A commit may free
            // a hundred thousand events; they are counted per topic after the lock, not one by one
            // under it, where each would hold up the stream and the deliveries.
            Dictionary<int, int>? perTopic = _metrics.CommitsEnabled ? [] : null;
            lock (_gate)
            {
                var (events, bytes) = _shards[shard].Commit(position, perTopic is null ? null : e => CollectionsMarshal.GetValueRefOrAddDefault(perTopic, e.TopicId, out _)++);
                _budget.Free(events, bytes);
            }
            foreach (var (topicId, events) in perTopic ?? [])
            {
                _metrics.Committed(Group, _topics.NameOf(topicId), events);
            }
        }, cancellationToken);

    /// <summary>Per shard: buffered (uncommitted) events and bytes, for DescribeGroup.</summary>
    public Dictionary<int, (int Events, long Bytes)> Lag()
    {
        lock (_gate)
        {
            return _shards.ToDictionary(s => s.Shard, s => (s.Count, s.Bytes));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        await _streams.DisposeAsync();
        lock (_gate)
        {
            _members.EndAll();
        }
        _stopping.Dispose();
    }
}
