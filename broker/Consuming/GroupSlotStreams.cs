using EventStream.Broker.Citus;

namespace EventStream.Broker.Consuming;

/// <summary>A group's slot streams, one per node: starting and stopping them, and releasing each slot's WAL.</summary>
internal sealed class GroupSlotStreams : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, NodeSlotStream> _streams = [];
    private readonly GroupStreamContext _context;
    private readonly CancellationTokenSource _stopping;
    private Task _running = Task.CompletedTask;

    /// <param name="stoppingToken">Ends every stream (the group stops).</param>
    public GroupSlotStreams(GroupStreamContext context, CancellationToken stoppingToken)
    {
        _context = context;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
    }

    /// <summary>
    /// Completes once the group's slot exists (on Citus, its slots): from then on every event
    /// committed reaches the group.
    /// </summary>
    public Task SlotReady => _context.SlotReady;

    /// <summary>Starts streaming: one node's slot, or on Citus every node's, following the cluster.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var topology = await _context.Topology.GetAsync(refresh: false, cancellationToken);
        var stoppingToken = _stopping.Token;
        Task nodes;
        if (topology.IsSingleNode)
        {
            _context.Queues.RouteAllTo(0);
            var setup = new SingleNodeSlotSetup(_context);
            Start(topology.Nodes[0], setup.PrepareAsync, onBarrier: null, onStray: static () => { });
            nodes = Task.CompletedTask;
        }
        else
        {
            var cluster = new ClusterSlotStreams(_context, this);
            nodes = Task.Run(() => cluster.RunAsync(stoppingToken), CancellationToken.None);
        }
        _running = Task.WhenAll(nodes, Task.Run(() => RunFlushAsync(stoppingToken), CancellationToken.None));
    }

    /// <summary>Starts streaming a node's slot; <paramref name="prepareSlot"/> makes sure it exists before each connection.</summary>
    public void Start(ClusterNode node, Func<CancellationToken, Task> prepareSlot, Action<int, string>? onBarrier, Action onStray)
    {
        var stream = new NodeSlotStream(_context, node, prepareSlot, onBarrier, onStray, _stopping.Token);
        lock (_gate)
        {
            _streams[node.Id] = stream;
        }
        stream.Start();
    }

    public bool IsStreaming(int node)
    {
        lock (_gate)
        {
            return _streams.ContainsKey(node);
        }
    }

    /// <summary>The nodes streamed now.</summary>
    public List<int> Nodes()
    {
        lock (_gate)
        {
            return _streams.Keys.ToList();
        }
    }

    /// <summary>Takes a node's stream out of the group, to be stopped by the caller.</summary>
    public NodeSlotStream? Remove(int node)
    {
        lock (_gate)
        {
            return _streams.Remove(node, out var stream) ? stream : null;
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
        List<NodeSlotStream> streams;
        lock (_gate)
        {
            streams = _streams.Values.ToList();
            _streams.Clear();
        }
        foreach (var stream in streams)
        {
            await stream.StopAsync();
        }
        _stopping.Dispose();
    }

    /// <summary>Releases WAL per node every flush interval.</summary>
    private async Task RunFlushAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_context.Options.FlushInterval, _context.TimeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            List<NodeSlotStream> streams;
            lock (_gate)
            {
                streams = _streams.Values.ToList();
            }
            foreach (var stream in streams)
            {
                stream.ReleaseWal();
            }
        }
    }
}
