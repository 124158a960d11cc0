using EventStream.Broker.Citus;

namespace EventStream.Broker.Consuming;

/// <summary>Streams one node's slot of a group into its shard queues, connecting again whenever the stream ends.</summary>
/// <remarks>
/// Appends each decoded transaction when the budget has room, lets go at once when the node's
/// server shuts down, and confirms how far the slot may be released.
/// </remarks>
internal sealed class NodeSlotStream
{
    private readonly GroupStreamContext _context;
    private readonly Func<CancellationToken, Task> _prepareSlot;
    private readonly Action<int, string>? _onBarrier;
    private readonly Action _onStray;
    private readonly CancellationTokenSource _stopping;
    private volatile SlotReader? _reader;
    private Task _running = Task.CompletedTask;
    private ulong _flushed;

    /// <param name="prepareSlot">Makes sure the slot exists, before each connection.</param>
    /// <param name="onBarrier">Told of each barrier the stream decodes; null: barriers are not decoded (a single node).</param>
    /// <param name="onStray">Told when events came that no route expected: a shard move not seen yet.</param>
    public NodeSlotStream(GroupStreamContext context, ClusterNode node, Func<CancellationToken, Task> prepareSlot,
        Action<int, string>? onBarrier, Action onStray, CancellationToken stoppingToken)
    {
        _context = context;
        Node = node;
        _prepareSlot = prepareSlot;
        _onBarrier = onBarrier;
        _onStray = onStray;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
    }

    public ClusterNode Node { get; }

    public void Start() => _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);

    /// <summary>Ends the stream and waits for it.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
    }

    /// <summary>Releases WAL: up to the oldest event buffered from this node, or all that was processed.</summary>
    public void ReleaseWal()
    {
        if (_reader is not { } reader)
        {
            return;
        }
        // Processed first: a transaction appended meanwhile is then either counted as buffered
        // or not processed yet.
        var processed = reader.ProcessedLsn;
        var flush = _context.Queues.OldestBufferedLsn(Node.Id) ?? processed;
        if (flush > _flushed)
        {
            reader.ConfirmFlush(flush);
            // A new reader starts again from the slot's flush position.
            _flushed = flush;
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var context = _context;
        while (!stoppingToken.IsCancellationRequested)
        {
            // A server shutting down waits for its walsenders' clients: this stream lets go at once.
            using var streaming = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, context.Shutdowns.Next(Node.ConnectionString));
            var token = streaming.Token;
            try
            {
                await _prepareSlot(token);
                await using var reader = await SlotReader.OpenAsync(Node.ConnectionString, context.SlotName, token,
                    Node.Id, barriers: _onBarrier is not null);
                _reader = reader;
                GroupLog.Streaming(context.Logger, context.Group, Node.Id);
                await foreach (var transaction in reader.ReadAsync(token))
                {
                    if (transaction.Barrier is { } barrier)
                    {
                        _onBarrier?.Invoke(Node.Id, barrier);
                        continue;
                    }
                    await context.Queues.WaitForRoomAsync(Node.Id, token);
                    if (await context.Queues.AppendAsync(transaction.Events, Node.Id, token))
                    {
                        _onStray();
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (token.IsCancellationRequested)
                {
                    GroupLog.StreamClosedForShutdown(context.Logger, context.Group, Node.Id);
                }
                else
                {
                    GroupLog.StreamFailed(context.Logger, context.Group, Node.Id, e);
                    context.FailUnlessReady("replication slot");
                }
                try
                {
                    await Task.Delay(context.Options.ReconnectDelay, context.TimeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                _reader = null;
            }
        }
    }
}
