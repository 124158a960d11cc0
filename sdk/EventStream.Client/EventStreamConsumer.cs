using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using EventStream.Client.Consumer;
using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStream.Client;

/// <summary>
/// Consumes EventStream topics as a member of a consumer group: the group's shards are shared among its
/// members, each shard's events arrive in the order they were stored (so per key), and the member commits
/// how far it got per shard. Delivery is at least once: events a member received but did not commit are
/// delivered again to whoever holds their shard next.
/// </summary>
/// <remarks>
/// <para>
/// The member joins on the first <see cref="ConsumeAsync"/> and stays in the group until disposed,
/// heartbeating in the background and reconnecting with the same <see cref="MemberId"/> after transient
/// failures. An event counts as processed once the loop asks for the next event, or once
/// <see cref="CommitAsync(ConsumedEvent, CancellationToken)"/> names it; only processed events are committed.
/// With <see cref="EventStreamConsumerOptions.AutoCommitInterval"/> (the default) processed positions are
/// committed every interval, when shards are revoked and on dispose; without it, call
/// <c>CommitAsync</c>.
/// </para>
/// <para>
/// When the broker moves a shard to another member, the consumer stops returning that shard's buffered
/// events, commits what was processed (with auto-commit) and calls
/// <see cref="EventStreamConsumerOptions.ShardsRevoked"/>. Dispose the consumer to leave cleanly: its
/// shards then move at once instead of after <see cref="EventStreamConsumerOptions.SessionTimeout"/>.
/// </para>
/// <para>
/// When several brokers share a database, the group runs on one of them; a broker that does not run it
/// answers with the address of the one that does, and the consumer joins there (see
/// <see cref="EventStreamConsumerOptions.Address"/>).
/// </para>
/// </remarks>
public sealed class EventStreamConsumer : IAsyncDisposable
{
    private readonly EventStreamConsumerOptions _options;
    private readonly BrokerChannel _channel;
    private readonly ConsumerState _state;
    private readonly ConsumerRunner _runner;
    private readonly ILogger _logger;
    private int _consuming;
    private int _disposed;

    /// <summary>Creates a consumer; it joins its group when consumption starts.</summary>
    /// <param name="options">The settings; copied, and validated.</param>
    /// <param name="loggerFactory">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public EventStreamConsumer(EventStreamConsumerOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, TimeProvider.System)
    {
    }

    internal EventStreamConsumer(EventStreamConsumerOptions options, ILoggerFactory? loggerFactory, TimeProvider time)
        : this(options, loggerFactory, time, static transport => new OptionsConnector(transport))
    {
    }

    /// <summary>Creates a consumer whose channels come from <paramref name="connect"/>, given the validated settings.</summary>
    internal EventStreamConsumer(EventStreamConsumerOptions options, ILoggerFactory? loggerFactory, TimeProvider time,
        Func<TransportSettings, BrokerConnector> connect)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Clone();
        _options.Validate();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EventStreamConsumer>();
        var connector = connect(_options.Transport);
        _channel = connector.Connect();
        _state = new ConsumerState(_options.MaxBufferedEvents);
        _runner = new ConsumerRunner(connector, _channel, _options, _state, _logger, time);
    }

    /// <summary>The consumer group.</summary>
    public string Group => _options.Group;

    /// <summary>This member's id in the group.</summary>
    public string MemberId => _options.MemberId;

    /// <summary>Whether the member is in its group now, for tests.</summary>
    internal bool IsJoined => _runner.IsJoined;

    /// <summary>The shards this member holds now and is not giving up, ascending.</summary>
    public IReadOnlyList<int> Assignment => _state.Assignment;

    /// <summary>
    /// Returns the member's events as they arrive, joining the group first if needed. Only one enumeration
    /// may run at a time; it ends when the consumer is disposed.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>; the member stays in the group.</param>
    /// <returns>The events, per shard in stored order.</returns>
    /// <exception cref="EventStreamException">
    /// From the enumeration: the member cannot consume, e.g. the broker rejected the group or topics
    /// (<see cref="EventStreamErrorReason.InvalidArgument"/>). Transient failures are retried, not thrown.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The consumer was disposed.</exception>
    public IAsyncEnumerable<ConsumedEvent> ConsumeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return ConsumeCoreAsync(cancellationToken);
    }

    /// <summary>
    /// Commits the event's shard up to and including it, and waits until the broker recorded it. The event
    /// counts as processed from now on.
    /// </summary>
    /// <param name="consumedEvent">An event this consumer returned.</param>
    /// <param name="cancellationToken">Stops waiting; the commit may still be recorded.</param>
    /// <exception cref="EventStreamException">
    /// <see cref="EventStreamErrorReason.LeaseLost"/>: the shard moved to another member since the event
    /// arrived; that member receives it again. <see cref="EventStreamErrorReason.ClientClosed"/>: the
    /// consumer was disposed first.
    /// </exception>
    public Task CommitAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumedEvent);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _runner.Start();
        _state.MarkProcessed(consumedEvent);
        _state.MarkCommitting(consumedEvent);
        var commit = new ShardCommit { Shard = consumedEvent.Shard, Epoch = consumedEvent.LeaseEpoch, Position = consumedEvent.Position.ToMessage() };
        return _runner.CommitAsync([commit], throwWhenRejected: true, cancellationToken);
    }

    /// <summary>Commits every processed event not committed yet, on every shard, and waits until the broker recorded them.</summary>
    /// <param name="cancellationToken">Stops waiting; the commits may still be recorded.</param>
    /// <exception cref="EventStreamException">
    /// <see cref="EventStreamErrorReason.LeaseLost"/>: some shards moved to other members meanwhile (the
    /// others were committed). <see cref="EventStreamErrorReason.ClientClosed"/>: the consumer was disposed first.
    /// </exception>
    public Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _runner.CommitAsync(_state.Uncommitted(), throwWhenRejected: true, cancellationToken);
    }

    /// <summary>
    /// Commits what was processed (with auto-commit), leaves the group so the shards move to other members
    /// at once, and closes the connection (the channel, unless it is <see cref="EventStreamConsumerOptions.Channel"/> or the
    /// gRPC client factory's); waits at most <see cref="EventStreamConsumerOptions.SessionTimeout"/>.
    /// A running enumeration ends.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _runner.CloseAsync(_options.SessionTimeout).ConfigureAwait(false);
        _channel.Dispose();
        ConsumerLog.Closed(_logger, Group, MemberId);
    }

    private async IAsyncEnumerable<ConsumedEvent> ConsumeCoreAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _consuming, 1) != 0)
        {
            throw new InvalidOperationException("Only one ConsumeAsync enumeration of a consumer may run at a time.");
        }
        Activity? processing = null;
        try
        {
            _runner.Start();
            ConsumedEvent? current = null;
            while (true)
            {
                if (current is not null)
                {
                    // The caller asked for the next event: it is done with this one.
                    _state.MarkProcessed(current);
                    current = null;
                    processing?.Dispose();
                    processing = null;
                }
                cancellationToken.ThrowIfCancellationRequested();
                await ReportShardChangesAsync(cancellationToken).ConfigureAwait(false);
                if (_runner.Failure is { } failure)
                {
                    ExceptionDispatchInfo.Throw(failure);
                }
                if (_runner.Closed)
                {
                    yield break;
                }
                current = _state.TryTakeEvent();
                if (current is not null)
                {
                    processing = EventStreamTelemetry.StartProcess(current, Group);
                    yield return current;
                    continue;
                }
                await _state.Consumable.WaitAsync(null, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            processing?.Dispose();
            Volatile.Write(ref _consuming, 0);
        }
    }

    /// <summary>Runs the callbacks for shard changes, between events, so they never overlap processing.</summary>
    private async Task ReportShardChangesAsync(CancellationToken cancellationToken)
    {
        while (_state.TryTakeNotice(out var notice))
        {
            if (notice.Revoked && _options.AutoCommitInterval is not null)
            {
                // The event in hand when the shard was revoked is processed now.
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bound.CancelAfter(_options.SessionTimeout);
                await _runner.CommitQuietlyAsync(_state.Uncommitted(notice.Shards), bound.Token).ConfigureAwait(false);
            }
            var callback = notice.Revoked ? _options.ShardsRevoked : _options.ShardsAssigned;
            if (callback is null)
            {
                continue;
            }
            try
            {
                await callback(notice.Shards, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var name = notice.Revoked ? nameof(EventStreamConsumerOptions.ShardsRevoked) : nameof(EventStreamConsumerOptions.ShardsAssigned);
                ConsumerLog.CallbackFailed(_logger, name, Group, MemberId, notice.Shards, e);
                throw;
            }
        }
    }
}
