namespace EventStream.Broker.Consuming;

/// <summary>
/// A group's coordinator lease held by this broker: renewed every third of its duration until
/// disposed (which releases it). <see cref="Lost"/> fires as soon as the broker can no longer be sure
/// it holds the lease: a renewal found another holder or a new tenure, or the lease ran out before a
/// renewal succeeded (the database was unreachable, or the process was paused).
/// </summary>
/// <remarks>
/// The broker's own deadline is conservative: it counts the duration from when the acquiring or
/// renewing call was sent, while the database counts it from when the call ran, so this broker gives
/// the lease up before another broker can take it (assuming clocks run at about the same rate).
/// </remarks>
internal sealed class CoordinatorLease : IAsyncDisposable
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    private readonly CoordinatorLeases _leases;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private long _validFrom;
    private Task _renewing = Task.CompletedTask;
    private int _disposed;

    internal CoordinatorLease(CoordinatorLeases leases, string group, long epoch, long validFrom)
    {
        _leases = leases;
        _time = leases.TimeProvider;
        Group = group;
        Epoch = epoch;
        _validFrom = validFrom;
    }

    public string Group { get; }

    /// <summary>The tenure: grows whenever the lease changes hands or lapses.</summary>
    public long Epoch { get; }

    /// <summary>Cancelled when the lease is lost; the group must stop running here at once.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>How long the lease lasts from now unless renewed (negative once lapsed).</summary>
    public TimeSpan Remaining => _leases.Duration - _time.GetElapsedTime(Interlocked.Read(ref _validFrom));

    internal void Start() => _renewing = Task.Run(RenewAsync);

    /// <summary>Stops renewing and, unless lost, releases the lease so another broker may take the group at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync();
        await _renewing;
        _stop.Dispose();
        if (_lost.IsCancellationRequested || Remaining <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(ReleaseTimeout, _time);
            if (await _leases.ReleaseAsync(Group, Epoch, timeout.Token))
            {
                CoordinatorLog.Released(_leases.Logger, Group, Epoch);
            }
        }
        catch (Exception e)
        {
            CoordinatorLog.ReleaseFailed(_leases.Logger, Group, e);
        }
    }

    private async Task RenewAsync()
    {
        var interval = _leases.Duration / 3;
        var failed = false;
        while (!_stop.IsCancellationRequested)
        {
            // After a failure retry sooner; never sleep past the end of the lease.
            var wait = failed ? interval / 3 : interval - _time.GetElapsedTime(Interlocked.Read(ref _validFrom));
            wait = wait < Remaining ? wait : Remaining;
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, _stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (Remaining <= TimeSpan.Zero)
            {
                Lose("it ran out before a renewal succeeded.");
                return;
            }
            var sent = _time.GetTimestamp();
            try
            {
                var remaining = Remaining;
                using var deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1), _time);
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, deadline.Token);
                var state = await _leases.TryAcquireAsync(Group, cancel.Token);
                if (!state.Acquired)
                {
                    Lose($"the broker at {state.Address} holds it now.");
                    return;
                }
                if (state.Epoch != Epoch)
                {
                    Lose($"it lapsed (epoch {state.Epoch} now).");
                    return;
                }
                Interlocked.Exchange(ref _validFrom, sent);
                failed = false;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                CoordinatorLog.RenewFailed(_leases.Logger, Group, Remaining, e);
                failed = true;
            }
        }
    }

    private void Lose(string reason)
    {
        CoordinatorLog.Lost(_leases.Logger, Group, Epoch, reason);
        // Callbacks run here, on the renewal task; they must not block.
        _lost.Cancel();
    }
}
