using System.Diagnostics;
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using EventStream.Client.Producer;
using EventStream.Client.Transport;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStream.Client;

/// <summary>
/// Produces events to EventStream topics. Events are batched per topic, sent over one HTTP/2
/// connection, retried on transient failures and, with idempotence (the default), stored exactly
/// once and in order per topic even when retried. Thread-safe; create one per application and
/// dispose it to flush.
/// </summary>
/// <remarks>
/// <para>
/// Each <c>ProduceAsync</c> completes when the broker has committed the event, with where it was
/// stored, or fails with an <see cref="EventStreamException"/> once the producer has given up
/// (after <see cref="EventStreamProducerOptions.MaxRetries"/> or
/// <see cref="EventStreamProducerOptions.DeliveryTimeout"/>). With idempotence, events of one topic
/// are stored in the order they were produced, across retries, so events with the same key keep their
/// order; keys choose the shard as <see cref="ProducerEvent.Key"/> describes. Without idempotence,
/// concurrent requests may overtake each other unless <see cref="EventStreamProducerOptions.MaxInFlight"/> is 1.
/// </para>
/// <para>
/// Cancelling the token of a <c>ProduceAsync</c> call withdraws its events if they are still waiting
/// in an unsent batch; once their batch was sealed for sending, it only stops the waiting and the
/// events may still be stored. Either way the call ends with <see cref="OperationCanceledException"/>.
/// </para>
/// </remarks>
public sealed partial class EventStreamProducer : IAsyncDisposable
{
    private readonly EventStreamProducerOptions _options;
    private readonly BrokerChannel _channel;
    private readonly ProducerContext _context;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, TopicProducer> _topics = new(StringComparer.Ordinal);
    private readonly object _topicsLock = new();
    private volatile bool _disposed;

    /// <summary>Creates a producer; it connects when the first batch is sent.</summary>
    /// <param name="options">The settings; copied, and validated.</param>
    /// <param name="loggerFactory">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public EventStreamProducer(EventStreamProducerOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, TimeProvider.System)
    {
    }

    internal EventStreamProducer(EventStreamProducerOptions options, ILoggerFactory? loggerFactory, TimeProvider time)
        : this(options, loggerFactory, time, static transport => new OptionsConnector(transport))
    {
    }

    /// <summary>Creates a producer whose channel comes from <paramref name="connect"/>, given the validated settings.</summary>
    internal EventStreamProducer(EventStreamProducerOptions options, ILoggerFactory? loggerFactory, TimeProvider time,
        Func<TransportSettings, BrokerConnector> connect)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Clone();
        _options.Validate();
        _channel = connect(_options.Transport).Connect();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EventStreamProducer>();
        _context = new ProducerContext(_channel.Invoker, _options, logger, time, _stopping.Token);
        ProducerLog.Started(logger, ProducerId, _channel.Address);
    }

    /// <summary>
    /// The id this producer sends for idempotence; empty when it is off. After the broker lost track of a
    /// topic's sequence numbers, that topic's batches carry it with a suffix (<c>.1</c>, <c>.2</c>, ...).
    /// </summary>
    public string ProducerId => _options.EnableIdempotence ? _options.ProducerId : "";

    /// <summary>Produces one event and waits for its acknowledgement.</summary>
    /// <param name="topic">The topic; it must exist.</param>
    /// <param name="producerEvent">The event.</param>
    /// <param name="cancellationToken">Stops waiting; see the class remarks for what happens to the event.</param>
    /// <returns>Where the event was stored.</returns>
    /// <exception cref="EventStreamException">The event failed, e.g. <see cref="EventStreamErrorReason.TopicNotFound"/>.</exception>
    /// <exception cref="ArgumentException">The topic name or a header is invalid.</exception>
    /// <exception cref="ObjectDisposedException">The producer was disposed.</exception>
    public Task<DeliveryResult> ProduceAsync(string topic, ProducerEvent producerEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(producerEvent);
        return Produce(topic, [producerEvent], static deliveries => deliveries[0], cancellationToken);
    }

    /// <summary>Produces one event with a binary key and payload and waits for its acknowledgement.</summary>
    /// <param name="topic">The topic; it must exist.</param>
    /// <param name="key">The key; null for none.</param>
    /// <param name="payload">The body.</param>
    /// <param name="headers">Headers; null for none.</param>
    /// <param name="cancellationToken">Stops waiting; see the class remarks for what happens to the event.</param>
    /// <returns>Where the event was stored.</returns>
    /// <exception cref="EventStreamException">The event failed.</exception>
    public Task<DeliveryResult> ProduceAsync(string topic, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte> payload,
        IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        ProduceAsync(topic, new ProducerEvent(payload, key) { Headers = headers }, cancellationToken);

    /// <summary>Produces one event with a text key and payload (UTF-8) and waits for its acknowledgement.</summary>
    /// <param name="topic">The topic; it must exist.</param>
    /// <param name="key">The key; null for none.</param>
    /// <param name="payload">The body.</param>
    /// <param name="headers">Headers; null for none.</param>
    /// <param name="cancellationToken">Stops waiting; see the class remarks for what happens to the event.</param>
    /// <returns>Where the event was stored.</returns>
    /// <exception cref="EventStreamException">The event failed.</exception>
    public Task<DeliveryResult> ProduceAsync(string topic, string? key, string payload,
        IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        ProduceAsync(topic, new ProducerEvent(payload, key) { Headers = headers }, cancellationToken);

    /// <summary>
    /// Produces events in order and waits for all of them. They are queued together, so no other call's
    /// events come between them, and they are stored in this order.
    /// </summary>
    /// <param name="topic">The topic; it must exist.</param>
    /// <param name="events">The events, in order.</param>
    /// <param name="cancellationToken">Stops waiting; see the class remarks for what happens to the events.</param>
    /// <returns>Where each event was stored, in the order given.</returns>
    /// <exception cref="EventStreamException">
    /// An event failed: the first failure in order is thrown. Events before it may have been stored.
    /// </exception>
    public Task<IReadOnlyList<DeliveryResult>> ProduceBatchAsync(string topic, IEnumerable<ProducerEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var list = events.ToList();
        if (list.Count == 0)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ValidateTopic(topic);
            return Task.FromResult<IReadOnlyList<DeliveryResult>>([]);
        }
        return Produce<IReadOnlyList<DeliveryResult>>(topic, list, static deliveries => deliveries, cancellationToken);
    }

    /// <summary>
    /// Sends every waiting batch now and waits until each event produced before this call is acknowledged
    /// or has failed. Failures are reported by the events' own tasks, not here.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the events are still sent.</param>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return FlushAllAsync().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Flushes, waiting at most <see cref="EventStreamProducerOptions.DeliveryTimeout"/>, then closes the
    /// connection (the channel, unless it is <see cref="EventStreamProducerOptions.Channel"/> or the gRPC client factory's). Events still unacknowledged then fail with <see cref="EventStreamErrorReason.ClientClosed"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_topicsLock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        try
        {
            await FlushAllAsync().WaitAsync(_options.DeliveryTimeout, _context.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ProducerLog.FlushOnCloseTimedOut(_context.Logger, ProducerId, _options.DeliveryTimeout);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_topics.Values.Select(topic => topic.CloseAsync())).ConfigureAwait(false);
        await _context.Stream.DisposeAsync().ConfigureAwait(false);
        _channel.Dispose();
        _stopping.Dispose();
        ProducerLog.Closed(_context.Logger, ProducerId);
    }

    private Task FlushAllAsync() => Task.WhenAll(_topics.Values.Select(topic => topic.FlushAsync()));

    /// <summary>Validates and queues the events of one call; returns the call's task.</summary>
    private Task<TResult> Produce<TResult>(string topic, IReadOnlyList<ProducerEvent> events,
        Func<DeliveryResult[], TResult> result, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ValidateTopic(topic);
        var call = new ProduceCall<TResult>(result, cancellationToken);
        var activity = EventStreamTelemetry.StartSend(topic, events.Count);
        var traceParent = activity is null ? null : EventStreamTelemetry.TraceParent(activity);
        var now = _context.Time.GetUtcNow();
        var nowTimestamp = Timestamp.FromDateTimeOffset(now);
        var pending = new PendingEvent[events.Count];
        var chunks = new EncodedChunks();
        for (var i = 0; i < pending.Length; i++)
        {
            var producerEvent = events[i] ?? throw new ArgumentException("The events must not contain null.", nameof(events));
            var producerTime = producerEvent.ProducerTime ?? now;
            var encoded = EventEncoder.Encode(producerEvent, producerEvent.ProducerTime is { } own ? Timestamp.FromDateTimeOffset(own) : nowTimestamp,
                chunks, pending.Length - i, traceParent);
            var size = EventEncoder.SizeInRequest(encoded.Length);
            if (size > _options.MaxEventBytes)
            {
                activity?.SetStatus(ActivityStatusCode.Error, nameof(EventStreamErrorReason)).Dispose();
                return Task.FromException<TResult>(ProduceErrors.TooLarge(topic, size, _options.MaxEventBytes));
            }
            pending[i] = new PendingEvent(encoded, size, producerTime, call);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            activity?.Dispose();
            return Task.FromCanceled<TResult>(cancellationToken);
        }
        call.Track(pending);
        if (activity is not null)
        {
            EventStreamTelemetry.EndWhenDone(activity, call.Task);
        }
        var target = GetTopic(topic);
        target.Enqueue(pending);
        if (cancellationToken.CanBeCanceled && !call.Task.IsCompleted)
        {
            var registration = cancellationToken.Register(static state =>
            {
                var (target, pending, call) = ((TopicProducer, PendingEvent[], ProduceCall<TResult>))state!;
                target.Withdraw(pending);
                call.StopWaiting();
            }, (target, pending, call));
            call.Task.ContinueWith(static (_, state) => ((CancellationTokenRegistration)state!).Dispose(), registration,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return call.Task;
    }

    private TopicProducer GetTopic(string topic)
    {
        if (_topics.TryGetValue(topic, out var existing))
        {
            return existing;
        }
        lock (_topicsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_topics.TryGetValue(topic, out existing))
            {
                existing = new TopicProducer(topic, _context);
                _topics[topic] = existing;
            }
            return existing;
        }
    }

    private static void ValidateTopic(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!TopicName().IsMatch(topic))
        {
            throw new ArgumentException($"Topic name '{topic}' must be 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-'.", nameof(topic));
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,249}\z")]
    private static partial Regex TopicName();
}
