using System.Collections.Concurrent;
using EventStream.Protocol.Sharding;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Client.Tests.Fakes;

/// <summary>
/// eventstream.v1.Producer in memory, with the broker's idempotence rules and injectable faults. Per
/// producer and topic it expects the next sequence number: a batch starting there (or any batch of a
/// producer it does not know, see <see cref="AcceptAnySequenceFromNewProducers"/>) is stored; one stored before and among the last
/// <see cref="RememberedBatches"/> is acknowledged again as a duplicate; one ahead is answered
/// ABORTED; one behind and forgotten FAILED_PRECONDITION.
/// </summary>
public sealed class FakeProducerService : EventStream.Protocol.V1.Producer.ProducerBase
{
    public const int ShardCount = 32;

    private readonly object _lock = new();
    private readonly HashSet<string> _topics = [];
    private readonly List<StoredEvent> _stored = [];
    private readonly Dictionary<(string Producer, string Topic), ProducerState> _producers = [];
    private readonly List<FaultRule> _faults = [];
    private readonly List<CallRecord> _calls = [];
    private readonly ConcurrentQueue<string> _acceptEncodings = new();
    private long _nextEventId = 1;
    private int _started;
    private int _concurrent;
    private int _maxConcurrent;

    public int RememberedBatches { get; set; } = 5;

    /// <summary>
    /// Whether the first batch of a producer it does not know is stored whatever its sequence (as the
    /// broker does, so a producer it forgot goes on), rather than only from sequence 0.
    /// </summary>
    public bool AcceptAnySequenceFromNewProducers { get; set; } = true;

    /// <summary>Produce calls that reached the handler (recorded in <see cref="Calls"/> once they end).</summary>
    public int StartedCalls => Volatile.Read(ref _started);

    /// <summary>The most Produce calls seen at once.</summary>
    public int MaxConcurrentCalls => Volatile.Read(ref _maxConcurrent);

    /// <summary>The <c>grpc-accept-encoding</c> header of each call (empty when absent), in arrival order.</summary>
    public IReadOnlyList<string> AcceptEncodings => [.. _acceptEncodings];

    public IReadOnlyList<CallRecord> Calls
    {
        get
        {
            lock (_lock)
            {
                return [.. _calls];
            }
        }
    }

    public override Task<ProduceResponse> Produce(ProduceRequest request, ServerCallContext context)
    {
        RecordHeaders(context);
        return HandleAsync(request, context);
    }

    /// <summary>Each request of a stream is handled as a call of its own, started in arrival order.</summary>
    public override async Task ProduceStream(IAsyncStreamReader<ProduceStreamRequest> requestStream, IServerStreamWriter<ProduceStreamResponse> responseStream, ServerCallContext context)
    {
        RecordHeaders(context);
        // The response stream takes one write at a time; answers finish in any order.
        var writeLock = new SemaphoreSlim(1, 1);
        var pending = new List<Task>();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            pending.Add(AnswerAsync(request, responseStream, writeLock, context));
        }
        await Task.WhenAll(pending);
    }

    private async Task AnswerAsync(ProduceStreamRequest request, IServerStreamWriter<ProduceStreamResponse> responses, SemaphoreSlim writeLock, ServerCallContext context)
    {
        var answer = new ProduceStreamResponse { RequestId = request.RequestId };
        try
        {
            answer.Response = await HandleAsync(request.Batch ?? new ProduceRequest(), context);
        }
        catch (RpcException e)
        {
            answer.Error = new BatchError { Code = (int)e.StatusCode, Message = e.Status.Detail };
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await writeLock.WaitAsync(context.CancellationToken);
        try
        {
            await responses.WriteAsync(answer, context.CancellationToken);
        }
        finally
        {
            writeLock.Release();
        }
    }

    public void CreateTopic(string name)
    {
        lock (_lock)
        {
            _topics.Add(name);
        }
    }

    public void AddFault(FaultRule rule)
    {
        lock (_lock)
        {
            _faults.Add(rule);
        }
    }

    public void ClearFaults()
    {
        lock (_lock)
        {
            _faults.Clear();
        }
    }

    /// <summary>Drops what the broker knows of producers, as if their state had expired.</summary>
    public void ForgetProducers()
    {
        lock (_lock)
        {
            _producers.Clear();
        }
    }

    public IReadOnlyList<StoredEvent> Stored(string topic)
    {
        lock (_lock)
        {
            return _stored.Where(e => e.Topic == topic).ToList();
        }
    }

    private async Task<ProduceResponse> HandleAsync(ProduceRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _started);
        var concurrent = Interlocked.Increment(ref _concurrent);
        InterlockedMax(ref _maxConcurrent, concurrent);
        var outcome = StatusCode.OK;
        try
        {
            var fault = TakeFault(request, r => r.Kind != FaultKind.StoreThenFail);
            if (fault is { Delay: var delay } && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.CancellationToken);
            }
            if (fault?.Gate is { } gate)
            {
                await gate.WaitAsync(context.CancellationToken);
            }
            if (fault is { Kind: FaultKind.Fail })
            {
                throw new RpcException(new Status(fault.Code, "Injected failure."));
            }
            ProduceResponse response;
            FaultRule? dropAnswer;
            lock (_lock)
            {
                response = Store(request);
                dropAnswer = TakeFault(request, r => r.Kind == FaultKind.StoreThenFail);
            }
            if (dropAnswer is not null)
            {
                throw new RpcException(new Status(dropAnswer.Code, "Injected failure after storing."));
            }
            return response;
        }
        catch (RpcException e)
        {
            outcome = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _concurrent);
            lock (_lock)
            {
                _calls.Add(new CallRecord(request.Topic, request.ProducerId, request.FirstSequence, request.Events.Count, outcome));
            }
        }
    }

    private void RecordHeaders(ServerCallContext context) =>
        _acceptEncodings.Enqueue(context.GetHttpContext().Request.Headers["grpc-accept-encoding"].ToString());

    private FaultRule? TakeFault(ProduceRequest request, Func<FaultRule, bool> kind)
    {
        lock (_lock)
        {
            var rule = _faults.FirstOrDefault(r => kind(r) && r.Used < r.Times && (r.When is null || r.When(request)));
            if (rule is not null)
            {
                rule.Used++;
            }
            return rule;
        }
    }

    private ProduceResponse Store(ProduceRequest request)
    {
        lock (_lock)
        {
            if (!_topics.Contains(request.Topic))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{request.Topic}' does not exist."));
            }
            if (request.Events.Count == 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "A batch needs at least one event."));
            }
            if (request.ProducerId.Length == 0)
            {
                return StoreBatch(request);
            }
            var key = (request.ProducerId, request.Topic);
            if (!_producers.TryGetValue(key, out var state))
            {
                _producers[key] = state = new ProducerState();
            }
            if (state.NextSequence < 0 && !AcceptAnySequenceFromNewProducers)
            {
                state.NextSequence = 0;
            }
            if (state.NextSequence >= 0 && request.FirstSequence != state.NextSequence)
            {
                var index = state.Recent.FindIndex(b => b.FirstSequence == request.FirstSequence && b.Response.Shards.Count == request.Events.Count);
                if (index >= 0)
                {
                    var again = state.Recent[index].Response.Clone();
                    again.Duplicate = true;
                    return again;
                }
                throw request.FirstSequence > state.NextSequence
                    ? new RpcException(new Status(StatusCode.Aborted, $"Expected sequence {state.NextSequence}, got {request.FirstSequence}."))
                    : new RpcException(new Status(StatusCode.FailedPrecondition, $"Sequence {request.FirstSequence} is behind {state.NextSequence} and unknown."));
            }
            var response = StoreBatch(request);
            state.NextSequence = request.FirstSequence + request.Events.Count;
            state.Recent.Add((request.FirstSequence, response));
            if (state.Recent.Count > RememberedBatches)
            {
                state.Recent.RemoveAt(0);
            }
            return response;
        }
    }

    private ProduceResponse StoreBatch(ProduceRequest request)
    {
        var response = new ProduceResponse { FirstEventId = _nextEventId, IngestTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) };
        var stickyShard = Random.Shared.Next(ShardCount);
        for (var i = 0; i < request.Events.Count; i++)
        {
            var data = request.Events[i];
            var shard = data.KeyCase == EventData.KeyOneofCase.KeyBytes ? ShardHash.ShardOf(data.KeyBytes.Span, ShardCount) : stickyShard;
            var id = _nextEventId++;
            _stored.Add(new StoredEvent(request.Topic, shard, id, data, request.ProducerId, request.FirstSequence + i));
            response.Shards.Add(shard);
        }
        return response;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    private sealed class ProducerState
    {
        /// <summary>The next sequence expected; -1 until the first batch.</summary>
        public long NextSequence { get; set; } = -1;

        public List<(long FirstSequence, ProduceResponse Response)> Recent { get; } = [];
    }
}
