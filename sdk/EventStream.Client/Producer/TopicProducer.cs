using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Client.Producer;

/// <summary>
/// Produces to one topic: accumulates events into batches and sends them with the rules of
/// <see cref="SendPipeline"/>. A loop decides under a lock what is due (lingering batches, retries,
/// timeouts) and starts requests; their answers update the state and wake it.
/// </summary>
internal sealed class TopicProducer
{
    private readonly object _lock = new();
    private readonly string _topic;
    private readonly ProducerContext _context;
    private readonly BatchAccumulator _accumulator;
    private readonly SendPipeline _pipeline;
    private readonly WakeSignal _wake = new();
    private readonly HashSet<Task> _requests = [];
    private readonly Task _loop;
    private bool _closed;

    public TopicProducer(string topic, ProducerContext context)
    {
        _topic = topic;
        _context = context;
        var options = context.Options;
        _accumulator = new BatchAccumulator(options.MaxBatchEvents, options.MaxBatchBytes, options.Linger, options.DeliveryTimeout);
        _pipeline = new SendPipeline(options, Random.Shared.NextDouble);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues events in order; throws <see cref="ObjectDisposedException"/> once closed.</summary>
    public void Enqueue(IReadOnlyList<PendingEvent> events)
    {
        var sealedBatches = new List<ProducerBatch>();
        bool opened;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(EventStreamProducer));
            var now = _context.Now;
            opened = _accumulator.Open is null;
            foreach (var pending in events)
            {
                _accumulator.Add(pending, now, sealedBatches);
            }
            foreach (var batch in sealedBatches)
            {
                _pipeline.Add(batch, now);
            }
        }
        // Events joining a lingering batch change nothing the loop waits for.
        if (opened || sealedBatches.Count > 0)
        {
            _wake.Set();
        }
    }

    /// <summary>The caller stopped waiting: withdraws the events not sealed into a batch yet.</summary>
    public void Withdraw(IReadOnlyList<PendingEvent> events)
    {
        lock (_lock)
        {
            foreach (var pending in events)
            {
                if (_accumulator.TryRemove(pending))
                {
                    pending.Withdraw();
                }
            }
        }
    }

    /// <summary>Sends the open batch now; completes when every event queued so far is acknowledged or failed.</summary>
    public Task FlushAsync()
    {
        var pending = new List<Task>();
        lock (_lock)
        {
            if (_accumulator.Seal() is { } open)
            {
                _pipeline.Add(open, _context.Now);
            }
            foreach (var batch in _pipeline.Unacknowledged)
            {
                pending.Add(batch.Done);
            }
        }
        _wake.Set();
        return Task.WhenAll(pending);
    }

    /// <summary>After the producer's stop token fired: waits for the loop and requests, then fails what is left.</summary>
    public async Task CloseAsync()
    {
        await _loop.ConfigureAwait(false);
        Task[] requests;
        lock (_lock)
        {
            requests = [.. _requests];
        }
        await Task.WhenAll(requests).ConfigureAwait(false);
        List<ProducerBatch> left;
        lock (_lock)
        {
            _closed = true;
            left = _pipeline.RemoveAll();
            if (_accumulator.Seal() is { } open)
            {
                left.Add(open);
            }
        }
        var closed = ProduceErrors.Closed(_topic);
        foreach (var batch in left)
        {
            batch.Fail(closed);
        }
    }

    private async Task RunAsync()
    {
        var toSend = new List<ProducerBatch>();
        var requests = new List<EncodedProduceRequest>();
        var expired = new List<ProducerBatch>();
        var failures = new List<EventStreamException>();
        var stopping = _context.Stopping;
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan? wait;
            try
            {
                wait = RunOnce(toSend, requests, expired, failures);
            }
            catch (Exception e)
            {
                // A bug, not a broker failure: keep the topic going rather than strand its events.
                ProducerLog.LoopFailed(_context.Logger, _topic, e);
                wait = TimeSpan.FromMilliseconds(100);
            }
            toSend.Clear();
            requests.Clear();
            expired.Clear();
            failures.Clear();
            await _wake.WaitAsync(wait, _context.Time, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Does what is due; returns how long to wait before the next due time (null: until woken).</summary>
    private TimeSpan? RunOnce(List<ProducerBatch> toSend, List<EncodedProduceRequest> requests, List<ProducerBatch> expired, List<EventStreamException> failures)
    {
        TimeSpan now;
        TimeSpan? due;
        lock (_lock)
        {
            now = _context.Now;
            _pipeline.Expire(now, expired);
            if (_accumulator.Open is { } open && open.Deadline <= now)
            {
                expired.Add(_accumulator.Seal()!);
            }
            foreach (var batch in expired)
            {
                var error = ProduceErrors.TimedOut(_topic, batch, _context.Options.DeliveryTimeout);
                batch.Fail(error);
                failures.Add(error);
            }
            if (_accumulator.IsLingerDue(now) && _pipeline.CanSendNew)
            {
                _pipeline.Add(_accumulator.Seal()!, now);
            }
            _pipeline.TakeSendable(now, toSend);
            foreach (var batch in toSend)
            {
                requests.Add(EventEncoder.Request(_topic, batch));
            }
            due = NextDue();
        }
        for (var i = 0; i < toSend.Count; i++)
        {
            Send(toSend[i], requests[i]);
        }
        for (var i = 0; i < expired.Count; i++)
        {
            ProducerLog.GaveUp(_context.Logger, _topic, expired[i].Count, expired[i].FirstSequence, failures[i].Reason, failures[i]);
        }
        // Wake at least hourly: the clock may be far off after a long sleep.
        return due is { } d ? TimeSpan.FromTicks(Math.Clamp((d - now).Ticks, 0, TimeSpan.TicksPerHour)) : null;
    }

    /// <summary>The next time the loop has something to do unless woken earlier. Called under the lock.</summary>
    private TimeSpan? NextDue()
    {
        var due = _pipeline.NextDue();
        if (_accumulator.Open is { } open)
        {
            due = Min(due, open.Deadline);
            if (_pipeline.CanSendNew && _accumulator.LingerDue is { } linger)
            {
                due = Min(due, linger);
            }
        }
        return due;
    }

    /// <summary>Starts one request; its numbers were fixed under the lock and cannot change while it is in flight.</summary>
    private void Send(ProducerBatch batch, EncodedProduceRequest request)
    {
        ProducerLog.Sending(_context.Logger, _topic, request.Events.Count, request.FirstSequence, batch.Attempts);
        var remaining = batch.Deadline - _context.Now;
        var timeout = remaining < _context.Options.AttemptTimeout ? remaining : _context.Options.AttemptTimeout;
        var answered = SendAsync(batch, request, timeout);
        lock (_lock)
        {
            _requests.Add(answered);
        }
        answered.ContinueWith(static (task, state) =>
        {
            var self = (TopicProducer)state!;
            lock (self._lock)
            {
                self._requests.Remove(task);
            }
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task SendAsync(ProducerBatch batch, EncodedProduceRequest request, TimeSpan timeout)
    {
        ProduceResponse? response = null;
        Exception? error = null;
        try
        {
            response = await _context.Stream.SendAsync(request, timeout).ConfigureAwait(false);
            if (response.Shards.Count != batch.Count)
            {
                error = new RpcException(new Status(StatusCode.Internal,
                    $"The broker answered {response.Shards.Count} deliveries for {batch.Count} events."));
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        var code = (error as RpcException)?.StatusCode ?? StatusCode.Unknown;
        var deliveries = error is null ? EventEncoder.Deliveries(_topic, batch, response!) : null;
        FailureDecision? decision = null;
        EventStreamException? failure = null;
        string producerId;
        int retries;
        TimeSpan retryIn;
        lock (_lock)
        {
            // Events finish under the lock, so a flush never misses a batch that has left the pipeline
            // but whose events are not done yet.
            if (deliveries is not null)
            {
                _pipeline.OnAcknowledged(batch);
                batch.Complete(deliveries);
            }
            else if (_context.Stopping.IsCancellationRequested)
            {
                // Closing: the batch stays queued and CloseAsync fails it.
                _pipeline.OnAbandoned(batch);
                _wake.Set();
                return;
            }
            else
            {
                decision = _pipeline.OnFailed(batch, code, error!, _context.Now);
                failure = decision switch
                {
                    FailureDecision.TimedOut => ProduceErrors.TimedOut(_topic, batch, _context.Options.DeliveryTimeout),
                    FailureDecision.GiveUp => ProduceErrors.GaveUp(_topic, batch, error!),
                    _ => null,
                };
                if (failure is not null)
                {
                    batch.Fail(failure);
                }
            }
            producerId = _pipeline.ProducerId;
            retries = batch.Retries;
            retryIn = batch.RetryAt - _context.Now;
        }
        _wake.Set();

        if (failure is not null)
        {
            ProducerLog.GaveUp(_context.Logger, _topic, batch.Count, request.FirstSequence, failure.Reason, failure);
            return;
        }
        if (decision == FailureDecision.RetryAfterReset)
        {
            ProducerLog.SequencesRestarted(_context.Logger, _topic, producerId);
        }
        if (decision is not null)
        {
            ProducerLog.Retrying(_context.Logger, _topic, batch.Count, request.FirstSequence, code, retries, retryIn);
        }
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan b) => a is { } x && x <= b ? x : b;
}
