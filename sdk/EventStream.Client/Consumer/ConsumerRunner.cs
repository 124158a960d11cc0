using EventStream.Client.Producer;
using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Consumer;

/// <summary>
/// Keeps a member in its group: joins, feeds what the broker pushes into <see cref="ConsumerState"/>,
/// heartbeats, and on a transient failure joins again with the same member id after a backoff. A
/// failure retrying cannot fix (a bad group name, an unknown method) stops it; see <see cref="Failure"/>.
/// A broker that does not run the group sends the member to the one that does (see ConsumerRunner.Redirects.cs).
/// </summary>
internal sealed partial class ConsumerRunner
{
    private readonly BrokerConnector _connector;
    private readonly BrokerChannel _channel;
    private readonly EventStreamConsumerOptions _options;
    private readonly ConsumerState _state;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private SubscribeConnection? _connection;
    private TaskCompletionSource<SubscribeConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _running = Task.CompletedTask;
    private Task _autoCommitting = Task.CompletedTask;
    private volatile bool _started;
    private volatile bool _leaving;
    private volatile bool _closed;
    private volatile EventStreamException? _failure;

    /// <summary>A runner joining through <paramref name="connector"/>'s configured broker (<paramref name="channel"/>).</summary>
    public ConsumerRunner(BrokerConnector connector, BrokerChannel channel, EventStreamConsumerOptions options, ConsumerState state, ILogger logger, TimeProvider time)
    {
        _connector = connector;
        _channel = channel;
        _options = options;
        _state = state;
        _logger = logger;
        _time = time;
    }

    private string Group => _options.Group;

    private string MemberId => _options.MemberId;

    /// <summary>Why the member stopped for good, if it did.</summary>
    public EventStreamException? Failure => _failure;

    /// <summary>Whether a session is open now.</summary>
    public bool IsJoined => Volatile.Read(ref _connection) is not null;

    /// <summary>True once closing began: no more events are returned.</summary>
    public bool Closed => _closed;

    /// <summary>Joins the group in the background, once.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_started || _closed)
            {
                return;
            }
            _started = true;
            _running = Task.Run(RunAsync);
            if (_options.AutoCommitInterval is { } interval)
            {
                _autoCommitting = Task.Run(() => AutoCommitAsync(interval, _stop.Token));
            }
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await RunSessionsAsync().ConfigureAwait(false);
        }
        finally
        {
            DropRedirect();
        }
    }

    private async Task RunSessionsAsync()
    {
        var stopping = _stop.Token;
        var attempt = 0;
        while (!stopping.IsCancellationRequested && !_leaving)
        {
            SubscribeConnection? connection = null;
            TimeSpan delay;
            var target = Target;
            try
            {
                connection = await SubscribeConnection.OpenAsync(target.Invoker, Join(), _state.Room, Unpublish, stopping).ConfigureAwait(false);
                attempt = 0;
                _redirectsInARow = 0;
                var heartbeat = HeartbeatInterval(connection);
                ConsumerLog.Joined(_logger, Group, MemberId, target.Address, heartbeat);
                Publish(connection);
                using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                var heartbeats = HeartbeatAsync(connection, heartbeat, heartbeatStop.Token);
                try
                {
                    await ReadAsync(connection, stopping).ConfigureAwait(false);
                }
                finally
                {
                    await heartbeatStop.CancelAsync().ConfigureAwait(false);
                    await heartbeats.ConfigureAwait(false);
                }
                if (_leaving)
                {
                    break;
                }
                delay = Backoff(++attempt);
                ConsumerLog.SessionEnded(_logger, Group, MemberId, delay);
                FallBack(delay);
            }
            catch (Exception) when (stopping.IsCancellationRequested || _leaving)
            {
                // Closing: the session is over either way.
                break;
            }
            catch (Exception e) when (CoordinatorAddress(e) is { } coordinator)
            {
                delay = Follow(coordinator, target, ref attempt, e);
            }
            catch (Exception e) when (IsTransient(e))
            {
                delay = Backoff(++attempt);
                ConsumerLog.Reconnecting(_logger, Group, MemberId, (e as RpcException)?.StatusCode ?? StatusCode.Unknown, delay, attempt, e);
                FallBack(delay);
            }
            catch (Exception e)
            {
                Fail(e);
                break;
            }
            finally
            {
                connection?.Dispose();
            }
            try
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Feeds the broker's pushes into the state until the call ends; pauses while the buffer is full.</summary>
    private async Task ReadAsync(SubscribeConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A commit's answer queues behind events, so read on while one is awaited.
            while (!_state.HasRoom && !connection.HasPendingCommits && !_leaving)
            {
                await _state.Room.WaitAsync(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            var response = await connection.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                return;
            }
            switch (response.ResponseCase)
            {
                case SubscribeResponse.ResponseOneofCase.Events:
                    _state.OnEvents(response.Events);
                    break;
                case SubscribeResponse.ResponseOneofCase.Assigned:
                    var (assigned, lost) = _state.OnAssigned(response.Assigned.Shards);
                    if (lost.Count > 0)
                    {
                        ConsumerLog.ShardsLost(_logger, Group, MemberId, lost);
                    }
                    if (assigned.Count > 0)
                    {
                        ConsumerLog.ShardsAssigned(_logger, Group, MemberId, assigned);
                    }
                    break;
                case SubscribeResponse.ResponseOneofCase.Revoked:
                    var revoked = _state.OnRevoked(response.Revoked.Shards);
                    if (revoked.Count > 0)
                    {
                        ConsumerLog.ShardsRevoked(_logger, Group, MemberId, revoked);
                        // Hand over promptly, whether or not the application is consuming right now.
                        if (_options.AutoCommitInterval is not null)
                        {
                            _ = CommitInBackgroundAsync(revoked);
                        }
                    }
                    break;
            }
        }
    }

    private async Task HeartbeatAsync(SubscribeConnection connection, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await connection.HeartbeatAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (RpcException)
        {
            // The call broke; the reader sees it too and reconnects.
        }
    }

    private Subscription Join()
    {
        var join = new Subscription
        {
            Group = Group,
            MemberId = MemberId,
            Start = StartPoint(_options.StartPosition),
            SessionTimeout = Duration.FromTimeSpan(_options.SessionTimeout),
            PayloadFormat = PayloadFormat.Binary,
        };
        join.Topics.Add(_options.Topics);
        return join;
    }

    private static StartPoint StartPoint(StartPosition start) => start.Kind switch
    {
        StartPositionKind.Earliest => new StartPoint { Kind = Protocol.V1.StartPoint.Types.Kind.Earliest },
        StartPositionKind.FromTime => new StartPoint { Kind = Protocol.V1.StartPoint.Types.Kind.Time, Time = Timestamp.FromDateTimeOffset(start.Time!.Value) },
        _ => new StartPoint { Kind = Protocol.V1.StartPoint.Types.Kind.Latest },
    };

    /// <summary>Ours, unless the broker asks for more often.</summary>
    private TimeSpan HeartbeatInterval(SubscribeConnection connection) =>
        connection.HeartbeatInterval > TimeSpan.Zero && connection.HeartbeatInterval < _options.HeartbeatInterval
            ? connection.HeartbeatInterval
            : _options.HeartbeatInterval;

    private TimeSpan Backoff(int attempt) =>
        RetryBackoff.Delay(attempt, _options.ReconnectBackoff, _options.MaxReconnectBackoff, Random.Shared.NextDouble());

    /// <summary>Failures a new session may not have: the broker or the connection was away.</summary>
    private static bool IsTransient(Exception e) => e is RpcException g && g.StatusCode is
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted
        or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown;

    private void Fail(Exception error)
    {
        var failure = error switch
        {
            EventStreamException e => e,
            RpcException e => EventStreamException.FromGrpc(e, $"Consuming as member '{MemberId}' of group '{Group}'"),
            _ => new EventStreamException(EventStreamErrorReason.Unknown, $"Consuming as member '{MemberId}' of group '{Group}' failed: {error.Message}", innerException: error),
        };
        _failure = failure;
        ConsumerLog.Failed(_logger, Group, MemberId, failure.Reason, failure);
        lock (_lock)
        {
            _connected.TrySetException(failure);
            _ = _connected.Task.Exception; // observed, in case nobody waits for it
        }
        _state.Consumable.Set();
    }

    private void Publish(SubscribeConnection connection)
    {
        lock (_lock)
        {
            if (connection.IsEnded)
            {
                return;
            }
            _connection = connection;
            if (!_connected.TrySetResult(connection))
            {
                _connected = new TaskCompletionSource<SubscribeConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
                _connected.SetResult(connection);
            }
        }
    }

    /// <summary>Called as a call ends, before its unanswered commits fail, so their retries wait for the next one.</summary>
    private void Unpublish(SubscribeConnection connection)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_connection, connection))
            {
                _connection = null;
                if (_connected.Task.IsCompletedSuccessfully)
                {
                    _connected = new TaskCompletionSource<SubscribeConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
    }

    /// <summary>The current session, once there is one; fails when the member stopped or closed.</summary>
    private Task<SubscribeConnection> WaitForConnectionAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }
}
