using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>A member on the raw Subscribe contract: records what the broker pushes; commits when told to.</summary>
internal sealed class SubscribeSession : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> _call;
    // grpc-dotnet takes one write at a time; heartbeats and commits share the request stream.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _reading;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long> _shards = [];
    private readonly CancellationTokenSource _heartbeats = new();

    private SubscribeSession(AsyncDuplexStreamingCall<SubscribeRequest, SubscribeResponse> call, string group)
    {
        _call = call;
        Group = group;
        _reading = Task.Run(ReadAsync);
    }

    public string Group { get; }

    public string MemberId { get; private set; } = "";

    /// <summary>Every event received, in arrival order, with the epoch of its batch.</summary>
    public ConcurrentQueue<(Event Event, long Epoch)> Received { get; } = new();

    public IReadOnlyDictionary<int, long> Shards
    {
        get
        {
            lock (_lock)
            {
                return _shards.ToDictionary();
            }
        }
    }

    public Exception? Failure { get; private set; }

    /// <summary>Every shard the broker revoked, in order.</summary>
    public ConcurrentQueue<int> Revoked { get; } = new();

    public static async Task<SubscribeSession> JoinAsync(GrpcChannel channel, Subscription subscription)
    {
        var call = new Consumer.ConsumerClient(channel).Subscribe();
        await call.RequestStream.WriteAsync(new SubscribeRequest { Join = subscription });
        var session = new SubscribeSession(call, subscription.Group);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (session.MemberId.Length == 0)
        {
            if (session.Failure is { } failure)
            {
                throw failure;
            }
            Assert.True(DateTime.UtcNow < deadline, "No Joined message within 30 s.");
            await Task.Delay(20);
        }
        _ = session.HeartbeatAsync(subscription.SessionTimeout.ToTimeSpan() / 3);
        return session;
    }

    /// <summary>Commits everything received so far, per shard, under the epoch it came with.</summary>
    public async Task CommitReceivedAsync()
    {
        var commits = Received.GroupBy(r => r.Event.Shard)
            .Select(g => g.Last())
            .Select(r => new ShardCommit { Shard = r.Event.Shard, Epoch = r.Epoch, Position = r.Event.Position });
        var request = new CommitRequest { Group = Group, MemberId = MemberId };
        request.Commits.Add(commits);
        await WriteAsync(new SubscribeRequest { Commit = request }, CancellationToken.None);
    }

    /// <summary>Lets go of revoked shards without committing what was received of them.</summary>
    public Task ReleaseAsync(IEnumerable<int> shards)
    {
        var release = new Release();
        release.Shards.Add(shards);
        return WriteAsync(new SubscribeRequest { Release = release }, CancellationToken.None);
    }

    /// <summary>Leaves cleanly: completes the requests, then waits for the broker to end the call.</summary>
    public async Task LeaveAsync()
    {
        await _heartbeats.CancelAsync();
        await _writeLock.WaitAsync();
        await _call.RequestStream.CompleteAsync();
        await _reading;
    }

    /// <summary>Vanishes without leaving, as a killed process would.</summary>
    public async Task AbandonAsync()
    {
        await _heartbeats.CancelAsync();
        _call.Dispose();
        try
        {
            await _reading;
        }
        catch (RpcException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _heartbeats.CancelAsync();
        _call.Dispose();
        _heartbeats.Dispose();
    }

    private async Task HeartbeatAsync(TimeSpan interval)
    {
        try
        {
            while (!_heartbeats.IsCancellationRequested)
            {
                await Task.Delay(interval, _heartbeats.Token);
                await WriteAsync(new SubscribeRequest { Heartbeat = new Heartbeat() }, _heartbeats.Token);
            }
        }
        catch (Exception) when (_heartbeats.IsCancellationRequested || Failure is not null)
        {
        }
        catch (RpcException)
        {
        }
    }

    private async Task WriteAsync(SubscribeRequest request, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _call.RequestStream.WriteAsync(request, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var response in _call.ResponseStream.ReadAllAsync())
            {
                switch (response.ResponseCase)
                {
                    case SubscribeResponse.ResponseOneofCase.Joined:
                        MemberId = response.Joined.MemberId;
                        break;
                    case SubscribeResponse.ResponseOneofCase.Assigned:
                        lock (_lock)
                        {
                            _shards.Clear();
                            foreach (var lease in response.Assigned.Shards)
                            {
                                _shards[lease.Shard] = lease.Epoch;
                            }
                        }
                        break;
                    case SubscribeResponse.ResponseOneofCase.Revoked:
                        foreach (var shard in response.Revoked.Shards)
                        {
                            Revoked.Enqueue(shard);
                        }
                        break;
                    case SubscribeResponse.ResponseOneofCase.Events:
                        foreach (var e in response.Events.Events)
                        {
                            Received.Enqueue((e, response.Events.Epoch));
                        }
                        break;
                    case SubscribeResponse.ResponseOneofCase.CommitResult:
                        foreach (var result in response.CommitResult.Results.Where(r => r.Code != 0))
                        {
                            Failure ??= new RpcException(new Status((StatusCode)result.Code, result.Message));
                        }
                        break;
                }
            }
        }
        catch (Exception e)
        {
            Failure ??= e;
        }
    }
}
