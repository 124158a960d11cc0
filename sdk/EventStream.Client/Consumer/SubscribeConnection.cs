using EventStream.Client.Producer;
using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Client.Consumer;

/// <summary>
/// One Subscribe call of a member: joined when created; writes (commits, heartbeats, the final
/// completion) go out one at a time, as the call's request stream takes one operation at a time;
/// commit answers are matched to commits in the order sent, as the broker answers them in order. When
/// the call ends, unanswered commits fail with UNAVAILABLE. Failures surface as <see cref="RpcException"/>.
/// </summary>
internal sealed class SubscribeConnection : IDisposable
{
    /// <summary>How long a join may take: a group's first join waits for its replication slot.</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);

    private readonly AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> _call;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _pendingLock = new();
    private readonly Queue<TaskCompletionSource<CommitResponse>> _pending = new();
    private readonly WakeSignal _commitSent;
    private readonly Action<SubscribeConnection> _onEnded;
    private bool _ended;
    private bool _left;

    private SubscribeConnection(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call, Joined joined, WakeSignal commitSent, Action<SubscribeConnection> onEnded)
    {
        _call = call;
        _commitSent = commitSent;
        _onEnded = onEnded;
        MemberId = joined.MemberId;
        HeartbeatInterval = joined.HeartbeatInterval?.ToTimeSpan() ?? TimeSpan.Zero;
    }

    /// <summary>The member id the broker confirmed.</summary>
    public string MemberId { get; }

    /// <summary>The heartbeat interval the broker asks for; zero when it did not say.</summary>
    public TimeSpan HeartbeatInterval { get; }

    public bool IsEnded
    {
        get
        {
            lock (_pendingLock)
            {
                return _ended;
            }
        }
    }

    public bool HasPendingCommits
    {
        get
        {
            lock (_pendingLock)
            {
                return _pending.Count > 0;
            }
        }
    }

    /// <summary>Starts a Subscribe call and joins; completes once the broker confirmed the member.</summary>
    /// <param name="invoker">The broker.</param>
    /// <param name="join">The member's subscription.</param>
    /// <param name="commitSent">Set whenever a commit goes out, so a reader paused for room reads its answer.</param>
    /// <param name="onEnded">Called once, synchronously, when the call ends.</param>
    /// <param name="cancellationToken">Cancels the whole call, not only the join.</param>
    public static async Task<SubscribeConnection> OpenAsync(CallInvoker invoker, Subscription join, WakeSignal commitSent,
        Action<SubscribeConnection> onEnded, CancellationToken cancellationToken)
    {
        var call = new Protocol.V1.Consumer.ConsumerClient(invoker).Subscribe(new CallOptions(cancellationToken: cancellationToken));
        // Read while writing: a write waits for the request stream, which never opens when the
        // connection fails; the read reports that failure, with the call's status and trailers.
        var reading = SubscribeCall.ReadAsync(call, cancellationToken).AsTask();
        var writing = SubscribeCall.WriteAsync(call, new SubscribeRequest { Join = join });
        try
        {
            using var joinTimeout = new CancellationTokenSource(JoinTimeout);
            await Task.WhenAny(reading, writing).WaitAsync(joinTimeout.Token).ConfigureAwait(false);
            if (reading.IsFaulted || writing.IsFaulted)
            {
                // The read reports how the call ended, with the broker's trailers (e.g. where the group runs).
                await reading.WaitAsync(joinTimeout.Token).ConfigureAwait(false);
            }
            await writing.WaitAsync(joinTimeout.Token).ConfigureAwait(false);
            var first = await reading.WaitAsync(joinTimeout.Token).ConfigureAwait(false)
                ?? throw new RpcException(new Status(StatusCode.Unavailable, "The broker ended the session before the member joined."));
            if (first.ResponseCase != SubscribeResponse.ResponseOneofCase.Joined)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"The broker answered a join with {first.ResponseCase}."));
            }
            return new SubscribeConnection(call, first.Joined, commitSent, onEnded);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            call.Dispose();
            Observe(reading, writing);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"The broker did not confirm the join within {JoinTimeout.TotalSeconds:0} s."));
        }
        catch
        {
            call.Dispose();
            Observe(reading, writing);
            throw;
        }
    }

    /// <summary>The next assignment, revocation or event batch; null once the broker ended the call with OK.</summary>
    public async ValueTask<SubscribeResponse?> ReadNextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                End(e);
                throw;
            }
            catch (Exception e)
            {
                var error = SubscribeCall.AsRpcException(e);
                End(error);
                throw error;
            }
            if (!more)
            {
                End(new RpcException(new Status(StatusCode.Unavailable, "The broker ended the session.")));
                return null;
            }
            var response = _call.ResponseStream.Current;
            if (response.ResponseCase != SubscribeResponse.ResponseOneofCase.CommitResult)
            {
                return response;
            }
            TaskCompletionSource<CommitResponse>? answer;
            lock (_pendingLock)
            {
                _pending.TryDequeue(out answer);
            }
            answer?.TrySetResult(response.CommitResult);
        }
    }

    /// <summary>Sends a commit and waits for its answer; throws <see cref="RpcException"/> (UNAVAILABLE) when the call ends first.</summary>
    public async Task<CommitResponse> CommitAsync(CommitRequest request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<CommitResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_pendingLock)
            {
                if (_ended)
                {
                    throw Ended();
                }
                _pending.Enqueue(answer);
            }
            _commitSent.Set();
            // Not cancellable halfway: a partly written message would break the call.
            await WriteAsync(new SubscribeRequest { Commit = request }).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task HeartbeatAsync() => WriteAloneAsync(new SubscribeRequest { Heartbeat = new Heartbeat() });

    /// <summary>Lets go of revoked shards once their processed events are committed (see <see cref="Release"/>).</summary>
    public Task ReleaseAsync(IEnumerable<int> shards)
    {
        var release = new Release();
        release.Shards.Add(shards);
        return WriteAloneAsync(new SubscribeRequest { Release = release });
    }

    /// <summary>Writes a request that needs no answer, one write at a time.</summary>
    private async Task WriteAloneAsync(SubscribeRequest request)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await WriteAsync(request).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Completes the requests: a clean leave. The broker then ends the call.</summary>
    public async Task LeaveAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_pendingLock)
            {
                _left = true;
            }
            await SubscribeCall.CompleteAsync(_call).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        End(new RpcException(new Status(StatusCode.Unavailable, "The session was closed.")));
        _call.Dispose();
    }

    private async Task WriteAsync(SubscribeRequest request)
    {
        lock (_pendingLock)
        {
            if (_left)
            {
                throw Ended();
            }
        }
        try
        {
            await SubscribeCall.WriteAsync(_call, request).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            End(e);
            throw;
        }
    }

    private void End(RpcException error)
    {
        List<TaskCompletionSource<CommitResponse>> unanswered;
        lock (_pendingLock)
        {
            if (_ended)
            {
                return;
            }
            _ended = true;
            unanswered = [.. _pending];
            _pending.Clear();
        }
        _onEnded(this);
        var lost = Ended(error);
        foreach (var answer in unanswered)
        {
            answer.TrySetException(lost);
        }
    }

    private static void Observe(params Task[] tasks)
    {
        foreach (var task in tasks)
        {
            _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private static RpcException Ended(Exception? cause = null) =>
        new(new Status(StatusCode.Unavailable, "The session ended before the commit was answered.", cause));
}
