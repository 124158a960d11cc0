using System.Buffers;
using System.Threading.Channels;
using EventStream.Broker.Storage;
using EventStream.Grpc;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Producing;

/// <summary>
/// Writes produce batches to PostgreSQL. Each of <see cref="ProduceOptions.Writers"/> writers
/// takes the batches queued for it, coalesces them into one transaction (group commit), stores
/// them with one binary COPY, and completes each batch only after COMMIT.
/// </summary>
internal sealed partial class EventWriter : BackgroundService
{
    // Each writer reuses one COPY buffer; one grown past this by huge events is let go.
    private const int InitialCopyBufferBytes = 1 << 20;
    private const int MaxRetainedCopyBufferBytes = 64 << 20;

    // Producers whose sequence state a writer remembers between transactions.
    private const int RememberedProducers = 10_000;

    private readonly DatabaseEndpoint _database;
    private readonly ProduceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<EventWriter> _logger;
    private readonly EventIdAllocator _ids = new();
    private readonly Channel<PendingBatch>[] _queues;

    public EventWriter(DatabaseEndpoint database, IOptions<ProduceOptions> options, TimeProvider timeProvider, ILogger<EventWriter> logger)
    {
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
            batch.Fail(new GrpcException(GrpcStatusCode.Unavailable, "The broker is shutting down; nothing was acknowledged."));
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
            FailQueued(new GrpcException(GrpcStatusCode.Unavailable, "The database could not be started."));
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
        var transaction = new List<PendingBatch>();
        var copyBuffer = new ArrayBufferWriter<byte>(InitialCopyBufferBytes);
        var sequences = new SequenceCache(RememberedProducers);
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            var events = Drain(queue, transaction, 0);
            if (events < _options.MaxEventsPerTransaction && _options.GroupCommitDelay > TimeSpan.Zero)
            {
                using var wait = new CancellationTokenSource(_options.GroupCommitDelay, _timeProvider);
                try
                {
                    while (events < _options.MaxEventsPerTransaction && await queue.WaitToReadAsync(wait.Token))
                    {
                        events = Drain(queue, transaction, events);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
            await CommitAsync(transaction, sequences, copyBuffer, stoppingToken);
            transaction.Clear();
            if (copyBuffer.Capacity > MaxRetainedCopyBufferBytes)
            {
                copyBuffer = new ArrayBufferWriter<byte>(InitialCopyBufferBytes);
            }
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

    private async Task CommitAsync(List<PendingBatch> batches, SequenceCache sequences, ArrayBufferWriter<byte> copyBuffer, CancellationToken stoppingToken)
    {
        var stored = new EventTransaction(_database.DataSource, _ids, _options.RememberedBatches, sequences, copyBuffer);
        try
        {
            var outcomes = await stored.CommitAsync(batches, _timeProvider.GetUtcNow().UtcDateTime, stoppingToken);
            for (var i = 0; i < batches.Count; i++)
            {
                outcomes[i].Deliver(batches[i]);
            }
        }
        catch (Exception e)
        {
            var status = StorageCalls.ToStatus(e) ?? new GrpcStatus(GrpcStatusCode.Internal, "The broker failed to store the batch.");
            if (status.Code == GrpcStatusCode.Internal)
            {
                LogCommitFailed(_logger, batches.Count, e);
            }
            else
            {
                LogDatabaseUnavailable(_logger, batches.Count, e.Message);
            }
            foreach (var batch in batches)
            {
                batch.Fail(new GrpcException(status, innerException: e));
            }
        }
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

    private static GrpcException ShuttingDown() => new(GrpcStatusCode.Unavailable, "The broker is shutting down; nothing was acknowledged.");

    [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "Storing {Batches} batches failed.")]
    private static partial void LogCommitFailed(ILogger logger, int batches, Exception exception);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Database unavailable; {Batches} batches were not acknowledged: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, int batches, string reason);
}
