using System.Buffers;
using System.Threading.Channels;
using EventStream.Broker.Reading;
using EventStream.Broker.Storage;
using EventStream.Broker.Telemetry;
using EventStream.Broker.Transport;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Producing;

/// <summary>
/// Writes produce batches to PostgreSQL. Each of <see cref="ProduceOptions.Writers"/> writers
/// takes the batches queued for it, coalesces them into one transaction (group commit), stores
/// them with one binary COPY, and completes each batch only after COMMIT. A writer's next
/// transaction copies while the previous one commits; they commit in order.
/// </summary>
internal sealed partial class EventWriter : BackgroundService
{
    // Each writer reuses one COPY buffer; one grown past this by huge events is let go.
    private const int InitialCopyBufferBytes = 1 << 20;
    private const int MaxRetainedCopyBufferBytes = 64 << 20;

    // Producers whose sequence state a writer remembers between transactions.
    private const int RememberedProducers = 10_000;

    // A writer's transactions under way at once, each on its own connection: one copies its rows
    // while the one before it commits, so PostgreSQL is not idle between transactions. They still
    // commit in order (TransactionOrder).
    private const int TransactionsInFlight = 2;

    private readonly DatabaseEndpoint _database;
    private readonly ProduceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<EventWriter> _logger;
    private readonly BrokerMetrics _metrics;
    private readonly EventIdAllocator _ids = new();
    private readonly Channel<PendingBatch>[] _queues;

    public EventWriter(DatabaseEndpoint database, IOptions<ProduceOptions> options, TimeProvider timeProvider, ILogger<EventWriter> logger,
        BrokerMetrics metrics)
    {
        _metrics = metrics;
        _database = database;
        _options = options.Value;
        _options.Validate();
        _timeProvider = timeProvider;
        _logger = logger;
        _queues = Enumerable.Range(0, _options.Writers)
            .Select(_ => Channel.CreateUnbounded<PendingBatch>(new UnboundedChannelOptions { SingleReader = true }))
            .ToArray();
    }

    /// <summary>
    /// Queues a batch and waits for its commit. Batches with the same <paramref name="orderKey"/>
    /// are committed in the order they were queued.
    /// </summary>
    public Task<BatchOutcome> WriteAsync(PendingBatch batch, string orderKey)
    {
        var queue = _queues[(uint)StringComparer.Ordinal.GetHashCode(orderKey) % (uint)_queues.Length];
        if (!queue.Writer.TryWrite(batch))
        {
            batch.Fail(new RpcException(new Status(StatusCode.Unavailable, "The broker is shutting down; nothing was acknowledged.")));
        }
        return batch.Outcome;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            FailQueued(new RpcException(new Status(StatusCode.Unavailable, "The database could not be started.")));
            return;
        }
        catch (OperationCanceledException)
        {
            FailQueued(ShuttingDown());
            return;
        }
        await Task.WhenAll(_queues.Select(queue => Task.Run(() => RunWriterAsync(queue.Reader, stoppingToken), CancellationToken.None)));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Let queued batches finish: they may already be committed, and their producers wait.
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }
        await base.StopAsync(cancellationToken);
    }

    private async Task RunWriterAsync(ChannelReader<PendingBatch> queue, CancellationToken stoppingToken)
    {
        var sequences = new SequenceCache(RememberedProducers);
        var buffers = new Stack<ArrayBufferWriter<byte>>();
        var inFlight = new Queue<(Task Done, ArrayBufferWriter<byte> Buffer)>();
        var previous = TransactionOrder.First;
        while (true)
        {
            if (inFlight.Count == TransactionsInFlight)
            {
                var (done, buffer) = inFlight.Dequeue();
                await done;
                buffers.Push(buffer.Capacity > MaxRetainedCopyBufferBytes ? new ArrayBufferWriter<byte>(InitialCopyBufferBytes) : buffer);
            }
            if (!await queue.WaitToReadAsync(CancellationToken.None))
            {
                break;
            }
            var transaction = new List<PendingBatch>();
            var events = Drain(queue, transaction, 0);
            if (events < _options.MaxEventsPerTransaction && _options.GroupCommitDelay > TimeSpan.Zero)
            {
                using var wait = new CancellationTokenSource(_options.GroupCommitDelay, _timeProvider);
                while (events < _options.MaxEventsPerTransaction)
                {
                    // The delay ends most waits: observed without throwing, once per transaction.
                    var more = queue.WaitToReadAsync(wait.Token).AsTask();
                    await ((Task)more).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (!more.IsCompletedSuccessfully || !more.Result)
                    {
                        break;
                    }
                    events = Drain(queue, transaction, events);
                }
            }
            var copyBuffer = buffers.Count > 0 ? buffers.Pop() : new ArrayBufferWriter<byte>(InitialCopyBufferBytes);
            var stored = new EventTransaction(_database.WriterDataSource, _ids, _options.RememberedBatches, sequences, copyBuffer, previous);
            inFlight.Enqueue((CommitAsync(transaction, stored, stoppingToken), copyBuffer));
            previous = stored.Order;
        }
        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue().Done;
        }
    }

    private int Drain(ChannelReader<PendingBatch> queue, List<PendingBatch> transaction, int events)
    {
        while (events < _options.MaxEventsPerTransaction && queue.TryRead(out var batch))
        {
            transaction.Add(batch);
            events += batch.Events.Count;
        }
        return events;
    }

    private async Task CommitAsync(List<PendingBatch> batches, EventTransaction stored, CancellationToken stoppingToken)
    {
        try
        {
            var outcomes = await stored.CommitAsync(batches, _timeProvider.GetUtcNow().UtcDateTime, stoppingToken);
            for (var i = 0; i < batches.Count; i++)
            {
                outcomes[i].Deliver(batches[i]);
                Record(batches[i], outcomes[i]);
            }
        }
        catch (Exception e)
        {
            // The batches fail with the cause itself; the call answering them maps it to a status.
            if (CallFailures.KnownStatus(e) is null)
            {
                LogCommitFailed(_logger, batches.Count, e);
            }
            else
            {
                LogDatabaseUnavailable(_logger, batches.Count, e.Message);
            }
            var errorType = (CallFailures.KnownStatus(e)?.StatusCode ?? StatusCode.Internal).ToString();
            foreach (var batch in batches)
            {
                batch.Fail(e);
                _metrics.Rejected(batch.Topic.Name, errorType);
            }
        }
    }

    /// <summary>Counts a batch stored now (a resent idempotent batch is not stored again) or refused.</summary>
    private void Record(PendingBatch batch, BatchResult result)
    {
        if (result.Outcome is not { } outcome)
        {
            _metrics.Rejected(batch.Topic.Name, (CallFailures.KnownStatus(result.Error!)?.StatusCode ?? StatusCode.InvalidArgument).ToString());
            return;
        }
        if (outcome.Duplicate || !_metrics.ProduceEnabled)
        {
            return;
        }
        long bytes = 0;
        foreach (var row in batch.Events)
        {
            bytes += row.Payload.Length + (row.Key?.Length ?? 0);
        }
        _metrics.Produced(batch.Topic.Name, batch.Events.Count, bytes, batch.ReceivedAt);
    }

    private void FailQueued(Exception error)
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var batch))
            {
                batch.Fail(error);
            }
        }
    }

    private static RpcException ShuttingDown() => new(new Status(StatusCode.Unavailable, "The broker is shutting down; nothing was acknowledged."));

    [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "Storing {Batches} batches failed.")]
    private static partial void LogCommitFailed(ILogger logger, int batches, Exception exception);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Database unavailable; {Batches} batches were not acknowledged: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, int batches, string reason);
}
