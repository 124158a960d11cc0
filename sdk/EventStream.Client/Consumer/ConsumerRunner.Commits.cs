using System.Globalization;
using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Client.Consumer;

internal sealed partial class ConsumerRunner
{
    /// <summary>
    /// Commits positions and waits for the broker's answer, sending again on the next session when the
    /// connection breaks first (a commit is idempotent). Records what was accepted.
    /// </summary>
    /// <param name="commits">Positions per shard, under the epochs they were received with.</param>
    /// <param name="throwWhenRejected">Throw <see cref="EventStreamErrorReason.LeaseLost"/> for rejected shards; otherwise log them.</param>
    /// <param name="cancellationToken">Stops waiting; the commit may still be recorded.</param>
    public async Task CommitAsync(IReadOnlyList<ShardCommit> commits, bool throwWhenRejected, CancellationToken cancellationToken)
    {
        if (commits.Count == 0)
        {
            return;
        }
        var request = new CommitRequest { Group = Group, MemberId = MemberId };
        request.Commits.Add(commits);
        CommitResponse response;
        SubscribeConnection? previous = null;
        while (true)
        {
            var connection = await WaitForConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (ReferenceEquals(connection, previous))
            {
                // Not unpublished yet; give the reader a moment to notice.
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
            try
            {
                response = await connection.CommitAsync(request, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (RpcException)
            {
                // The session ended first: send again on the next one.
                previous = connection;
            }
        }
        Apply(request, response, throwWhenRejected);
    }

    private void Apply(CommitRequest request, CommitResponse response, bool throwWhenRejected)
    {
        var rejected = new List<int>();
        EventStreamException? failure = null;
        foreach (var commit in request.Commits)
        {
            var result = response.Results.FirstOrDefault(r => r.Shard == commit.Shard);
            var code = (StatusCode)(result?.Code ?? (int)StatusCode.Internal);
            if (code == StatusCode.OK)
            {
                _state.OnCommitted(commit);
            }
            else if (code == StatusCode.FailedPrecondition)
            {
                rejected.Add(commit.Shard);
            }
            else
            {
                var (reason, transient) = EventStreamException.Classify(code);
                failure ??= new EventStreamException(reason,
                    $"Committing shard {commit.Shard} of group '{Group}' failed with {code}: {result?.Message ?? "no answer for the shard"}", transient, code);
            }
        }
        if (rejected.Count > 0)
        {
            ConsumerLog.CommitsRejected(_logger, Group, MemberId, rejected);
            if (throwWhenRejected)
            {
                throw new EventStreamException(EventStreamErrorReason.LeaseLost,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Member '{MemberId}' of group '{Group}' no longer holds shard(s) {string.Join(", ", rejected)} under the lease the events came with; another member receives the uncommitted events again."),
                    isTransient: false, StatusCode.FailedPrecondition);
            }
        }
        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Commits processed positions every interval, and sooner once many events were processed,
    /// until the runner stops.
    /// </summary>
    private async Task AutoCommitAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            var tick = timer.WaitForNextTickAsync(cancellationToken).AsTask();
            while (_failure is null)
            {
                if (await Task.WhenAny(tick, _state.CommitDue).ConfigureAwait(false) == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        break;
                    }
                    tick = timer.WaitForNextTickAsync(cancellationToken).AsTask();
                }
                await CommitQuietlyAsync(_state.Uncommitted(), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Commits what was processed of shards being revoked, without holding up the reader.</summary>
    private async Task CommitInBackgroundAsync(IReadOnlyCollection<int> shards)
    {
        await Task.Yield();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        bound.CancelAfter(_options.SessionTimeout);
        await CommitQuietlyAsync(_state.Uncommitted(shards), bound.Token).ConfigureAwait(false);
        // The rest was dropped at the revocation: the next owner gets it now, not after a session timeout.
        try
        {
            var connection = await WaitForConnectionAsync(bound.Token).ConfigureAwait(false);
            await connection.ReleaseAsync(shards).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or InvalidOperationException)
        {
            // The session ended: its shards move anyway, on its end or its timeout.
        }
    }

    /// <summary>Commits, logging failures instead of throwing them; for commits nobody waits for.</summary>
    public async Task CommitQuietlyAsync(IReadOnlyList<ShardCommit> commits, CancellationToken cancellationToken)
    {
        try
        {
            await CommitAsync(commits, throwWhenRejected: false, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (_failure is null && !_closed)
        {
            ConsumerLog.BackgroundCommitFailed(_logger, Group, MemberId, e);
        }
        catch (Exception)
        {
            // Stopped or closed: the reason was reported where it happened.
        }
    }

    /// <summary>
    /// Closes the member: commits what was processed (with auto-commit), leaves the group so its shards
    /// move at once, and waits for the broker to end the session; all within <paramref name="timeout"/>.
    /// </summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
        }
        _state.Consumable.Set();
        if (!_started)
        {
            Finish();
            return;
        }
        using var bound = new CancellationTokenSource(timeout, _time);
        if (_options.AutoCommitInterval is not null && _failure is null && _connection is not null)
        {
            await CommitQuietlyAsync(_state.Uncommitted(), bound.Token).ConfigureAwait(false);
        }
        _leaving = true;
        _state.Room.Set();
        var connection = _connection;
        if (connection is not null)
        {
            try
            {
                await connection.LeaveAsync().ConfigureAwait(false);
                await _running.WaitAsync(bound.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException)
            {
                ConsumerLog.LeaveTimedOut(_logger, Group, MemberId, timeout);
            }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _running.ConfigureAwait(false);
        await _autoCommitting.ConfigureAwait(false);
        Finish();
    }

    /// <summary>From now on commits fail at once with the failure, or as closed.</summary>
    private void Finish()
    {
        var closed = _failure ?? new EventStreamException(EventStreamErrorReason.ClientClosed,
            $"The consumer of member '{MemberId}' of group '{Group}' was closed.", isTransient: false, StatusCode.Cancelled);
        lock (_lock)
        {
            if (!_connected.TrySetException(closed))
            {
                _connected = new TaskCompletionSource<SubscribeConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
                _connected.SetException(closed);
            }
            _ = _connected.Task.Exception; // observed, in case nobody waits for it
        }
        _state.Consumable.Set();
    }
}
