using Grpc.Core;

namespace EventStream.Client.Producer;

/// <summary>What becomes of a batch whose attempt failed.</summary>
internal enum FailureDecision
{
    /// <summary>It is sent again later.</summary>
    Retry,

    /// <summary>Its topic's sequences restarted under a new producer id; it is sent again later.</summary>
    RetryAfterReset,

    /// <summary>Its events fail with the attempt's error.</summary>
    GiveUp,

    /// <summary>Its events fail: the delivery timeout has passed.</summary>
    TimedOut,
}

/// <summary>
/// The sealed batches of one topic, from sealing to acknowledgement: sequence numbers, flow control
/// and retries. Pure state, driven by the caller with the current time; not thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Batches are numbered in the order they are sealed: a batch takes the next <c>first_sequence</c>
/// and event i of it has <c>first_sequence + i</c>. The broker stores a batch only when its
/// first_sequence is the next one it expects for the producer and topic, so what it stores is always
/// a prefix of the sequence; that is what keeps events of one key in order across retries.
/// </para>
/// <para>
/// Normally batches are sent in sequence order, pipelined within a window of MaxInFlight batches
/// that starts at the earliest unacknowledged one (answers arrive in any order over HTTP/2, so a
/// count of outstanding requests would not do). The broker thus never stores more than MaxInFlight
/// batches from one the producer may still resend, and it remembers more (8 by default). Until the broker has
/// acknowledged a batch of the current producer id the window is one batch: a broker takes any
/// sequence from a producer it does not know, so a second batch overtaking the first would be stored
/// first. Any transient failure
/// (UNAVAILABLE, DEADLINE_EXCEEDED, or ABORTED: the broker is missing an earlier batch) switches to
/// recovery: nothing new is sent until the outstanding requests have answered, then the earliest
/// unacknowledged batch is sent alone, after its backoff, until it is acknowledged; then pipelining
/// resumes with the rest, still in sequence order.
/// </para>
/// <para>
/// A batch given up on leaves a gap the broker may still be waiting for (it may or may not have been
/// stored). When the earliest unacknowledged batch, sent alone, is answered ABORTED, the broker
/// expects a sequence that will never come (a batch given up on, or it forgot this producer), so the
/// topic's sequences restart from 0 under a new producer id (<c>ProducerId.N</c>). That is safe:
/// ABORTED means nothing from that batch on was stored, so no batch that is sent again can be stored twice.
/// </para>
/// </remarks>
internal sealed class SendPipeline(EventStreamProducerOptions options, Func<double> random)
{
    private readonly List<ProducerBatch> _unacknowledged = [];
    private long _nextOrdinal;
    private long _nextSequence;
    private int _session;
    private bool _sessionConfirmed;
    private int _inFlight;
    private bool _recovering;
    private ProducerBatch? _probe;

    /// <summary>Sealed batches neither acknowledged nor failed, in sequence order.</summary>
    public IReadOnlyList<ProducerBatch> Unacknowledged => _unacknowledged;

    public int InFlight => _inFlight;

    /// <summary>Whether batches are being resent one at a time after a failure.</summary>
    public bool Recovering => _recovering;

    /// <summary>The producer id sent with batches now: empty without idempotence.</summary>
    public string ProducerId => !options.EnableIdempotence ? ""
        : _session == 0 ? options.ProducerId
        : options.ProducerId + "." + _session.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether a newly sealed batch would be sent at once: worth sealing a lingering batch for.</summary>
    public bool CanSendNew
    {
        get
        {
            if (_recovering || _inFlight >= WindowSize || !InWindow(_nextOrdinal))
            {
                return false;
            }
            foreach (var batch in _unacknowledged)
            {
                if (!batch.InFlight)
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>Takes a sealed batch, giving it the next sequence numbers.</summary>
    public void Add(ProducerBatch batch, TimeSpan now)
    {
        batch.Ordinal = _nextOrdinal++;
        batch.ProducerId = ProducerId;
        batch.FirstSequence = _nextSequence;
        batch.RetryAt = now;
        _nextSequence += batch.Count;
        _unacknowledged.Add(batch);
    }

    /// <summary>Marks the batches to send now as in flight and appends them to <paramref name="toSend"/>.</summary>
    public void TakeSendable(TimeSpan now, List<ProducerBatch> toSend)
    {
        if (_recovering)
        {
            if (_inFlight == 0 && _unacknowledged.Count > 0 && _unacknowledged[0].RetryAt <= now)
            {
                _probe = _unacknowledged[0];
                Start(_probe, toSend);
            }
            return;
        }
        foreach (var batch in _unacknowledged)
        {
            if (batch.InFlight)
            {
                continue;
            }
            if (_inFlight >= WindowSize || !InWindow(batch.Ordinal) || batch.RetryAt > now)
            {
                // Later batches wait for this one: requests go out in sequence order.
                break;
            }
            Start(batch, toSend);
        }
    }

    /// <summary>The batch's request succeeded.</summary>
    public void OnAcknowledged(ProducerBatch batch)
    {
        End(batch);
        _unacknowledged.Remove(batch);
        _sessionConfirmed = true;
        if (batch == _probe)
        {
            _probe = null;
            _recovering = false;
        }
        LeaveRecoveryWhenIdle();
    }

    /// <summary>The batch's request ended while the producer is closing; the batch stays for the closer to fail.</summary>
    public void OnAbandoned(ProducerBatch batch) => End(batch);

    /// <summary>The batch's request failed with <paramref name="code"/>; decides what follows.</summary>
    public FailureDecision OnFailed(ProducerBatch batch, StatusCode code, Exception error, TimeSpan now)
    {
        End(batch);
        var wasProbe = batch == _probe;
        if (wasProbe)
        {
            _probe = null;
        }
        batch.LastError = error;

        var (_, transient) = EventStreamException.Classify(code);
        if (!transient)
        {
            return GiveUp(batch, FailureDecision.GiveUp);
        }
        if (now >= batch.Deadline)
        {
            return GiveUp(batch, FailureDecision.TimedOut);
        }
        var aborted = code == StatusCode.Aborted && options.EnableIdempotence;
        if (aborted && !wasProbe)
        {
            // An earlier batch is missing at the broker: wait for it, without counting a retry.
            _recovering = true;
            batch.RetryAt = now;
            return FailureDecision.Retry;
        }
        if (batch.Retries >= options.MaxRetries)
        {
            return GiveUp(batch, FailureDecision.GiveUp);
        }
        var decision = FailureDecision.Retry;
        if (aborted)
        {
            RestartSequences();
            decision = FailureDecision.RetryAfterReset;
        }
        batch.Retries++;
        batch.RetryAt = now + RetryBackoff.Delay(batch.Retries, options.RetryBackoff, options.MaxRetryBackoff, random());
        _recovering = true;
        return decision;
    }

    /// <summary>Removes the waiting batches whose delivery timeout has passed, appending them to <paramref name="expired"/>.</summary>
    public void Expire(TimeSpan now, List<ProducerBatch> expired)
    {
        for (var i = 0; i < _unacknowledged.Count; i++)
        {
            var batch = _unacknowledged[i];
            if (!batch.InFlight && batch.Deadline <= now)
            {
                _unacknowledged.RemoveAt(i--);
                expired.Add(batch);
            }
        }
        LeaveRecoveryWhenIdle();
    }

    /// <summary>The next time something becomes due without a request answering, if any.</summary>
    public TimeSpan? NextDue()
    {
        TimeSpan? due = null;
        var canStart = _recovering ? _inFlight == 0 : _inFlight < WindowSize;
        var first = true;
        foreach (var batch in _unacknowledged)
        {
            if (batch.InFlight)
            {
                continue;
            }
            if (canStart && first && InWindow(batch.Ordinal))
            {
                due = Min(due, batch.RetryAt);
            }
            first = false;
            due = Min(due, batch.Deadline);
        }
        return due;
    }

    /// <summary>Removes every batch, for a producer that is closing.</summary>
    public List<ProducerBatch> RemoveAll()
    {
        var all = new List<ProducerBatch>(_unacknowledged);
        _unacknowledged.Clear();
        return all;
    }

    private FailureDecision GiveUp(ProducerBatch batch, FailureDecision decision)
    {
        _unacknowledged.Remove(batch);
        LeaveRecoveryWhenIdle();
        return decision;
    }

    private void RestartSequences()
    {
        // Only called with nothing in flight, so no request carries the old numbers.
        _session++;
        _sessionConfirmed = false;
        _nextSequence = 0;
        foreach (var batch in _unacknowledged)
        {
            batch.ProducerId = ProducerId;
            batch.FirstSequence = _nextSequence;
            _nextSequence += batch.Count;
        }
    }

    /// <summary>How many batches may be outstanding: one until the current producer id is known to the broker.</summary>
    private int WindowSize => _sessionConfirmed || !options.EnableIdempotence ? options.MaxInFlight : 1;

    /// <summary>Whether a batch is within the window that starts at the earliest unacknowledged batch.</summary>
    private bool InWindow(long ordinal) =>
        _unacknowledged.Count == 0 || ordinal < _unacknowledged[0].Ordinal + WindowSize;

    private void Start(ProducerBatch batch, List<ProducerBatch> toSend)
    {
        batch.InFlight = true;
        batch.Attempts++;
        _inFlight++;
        toSend.Add(batch);
    }

    private void End(ProducerBatch batch)
    {
        if (batch.InFlight)
        {
            batch.InFlight = false;
            _inFlight--;
        }
    }

    private void LeaveRecoveryWhenIdle()
    {
        if (_recovering && _inFlight == 0 && _unacknowledged.Count == 0)
        {
            _recovering = false;
        }
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan b) => a is { } x && x <= b ? x : b;
}
