using EventStream.Grpc.Client;
using EventStream.Grpc.Wire;

namespace EventStream.Client;

/// <summary>Settings of an <see cref="EventStreamProducer"/>.</summary>
/// <remarks>
/// <para>
/// Constraints between settings, checked when the producer is created:
/// <see cref="DeliveryTimeout"/> ≥ <see cref="Linger"/> + <see cref="AttemptTimeout"/> (an event must
/// get at least one full attempt) and at most <see cref="MaxDeliveryTimeout"/>;
/// <see cref="RetryBackoff"/> ≤ <see cref="MaxRetryBackoff"/> ≤ <see cref="DeliveryTimeout"/>;
/// with <see cref="EnableIdempotence"/>, <see cref="MaxInFlight"/> ≤ <see cref="MaxInFlightWithIdempotence"/>;
/// <see cref="MaxBatchBytes"/> ≤ the channel's <see cref="GrpcChannelOptions.MaxSendMessageSize"/>
/// (4 MiB by default) less <see cref="RequestEnvelopeBytes"/> for the rest of the request.
/// </para>
/// <para>
/// The producer copies the options when it is created; changing them afterwards has no effect on it.
/// When registered with <c>AddEventStreamProducer</c>, the options bind from the configuration
/// section <see cref="ConfigurationSection"/> (e.g. <c>EventStream:Producer:Linger = 00:00:00.010</c>).
/// </para>
/// </remarks>
public sealed class EventStreamProducerOptions
{
    /// <summary>The configuration section the options bind from: <c>EventStream:Producer</c>.</summary>
    public const string ConfigurationSection = "EventStream:Producer";

    /// <summary>Bytes of a request kept free for its topic, producer id and sequence number.</summary>
    public const int RequestEnvelopeBytes = 1024;

    /// <summary>
    /// The most requests per topic in flight with idempotence: 5. A retried batch is recognised as a
    /// duplicate only while the broker remembers it (the last 8 batches of each producer and topic, by
    /// default), and the producer lets at most this many batches from one it may resend be stored.
    /// </summary>
    public const int MaxInFlightWithIdempotence = 5;

    /// <summary>The longest <see cref="DeliveryTimeout"/>: 24 days.</summary>
    public static readonly TimeSpan MaxDeliveryTimeout = TimeSpan.FromDays(24);

    /// <summary>The longest <see cref="ProducerId"/>, in characters (the broker takes 256, and a suffix may be added).</summary>
    public const int MaxProducerIdLength = 200;

    /// <summary>The broker's address, <c>http://</c> (cleartext HTTP/2) or <c>https://</c>. Default <c>http://127.0.0.1:7400</c>.</summary>
    public string Address { get; set; } = "http://127.0.0.1:7400";

    /// <summary>
    /// How long a batch waits for more events once its first event arrived, when a request could
    /// be sent. Default 5 ms; zero sends as soon as possible (events still coalesce while
    /// <see cref="MaxInFlight"/> requests are outstanding).
    /// </summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The most events in one request. Default 10,000, the most the broker accepts by default; with
    /// small events <see cref="MaxBatchBytes"/> usually seals a batch first.
    /// </summary>
    public int MaxBatchEvents { get; set; } = 10_000;

    /// <summary>
    /// The most bytes of encoded events in one request. Default 1 MiB. An event larger than this is
    /// sent in a request of its own, up to the message size limit of the channel.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The most requests outstanding per topic. Default 5, which is also the most allowed with
    /// <see cref="EnableIdempotence"/>. Without idempotence, requests in flight together may be stored in
    /// any order; set 1 to keep order.
    /// </summary>
    public int MaxInFlight { get; set; } = 5;

    /// <summary>
    /// How many times a batch is sent again after a transient failure (UNAVAILABLE,
    /// DEADLINE_EXCEEDED) before its events fail. Default 10; 0 never retries.
    /// </summary>
    public int MaxRetries { get; set; } = 10;

    /// <summary>The wait before the first retry; it doubles with each retry, with jitter. Default 100 ms.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between retries. Default 5 s.</summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of one request to the broker. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an event may wait for its acknowledgement, from the call that produced it, retries
    /// included; then it fails with <see cref="EventStreamErrorReason.Timeout"/>. Default 2 min.
    /// </summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Whether retries are deduplicated by the broker: each batch carries <see cref="ProducerId"/> and
    /// the sequence number of its first event, so a batch stored by an attempt whose answer was lost
    /// is acknowledged again, not stored twice. Default true. Without it a retry may store events twice.
    /// </summary>
    public bool EnableIdempotence { get; set; } = true;

    /// <summary>
    /// Identifies this producer to the broker for idempotence. Default a new GUID. It must be unique to
    /// one producer instance: never reuse it across restarts or share it between producers, or the broker
    /// may take new events for retries of old ones. At most <see cref="MaxProducerIdLength"/> characters.
    /// </summary>
    public string ProducerId { get; set; } = Guid.NewGuid().ToString();

    /// <summary>
    /// Settings of the gRPC channel, e.g. an <see cref="GrpcChannelOptions.HttpHandler"/> for TLS,
    /// a proxy or tests, or gzip request compression. Default: a plain HTTP/2 channel.
    /// </summary>
    public GrpcChannelOptions? ChannelOptions { get; set; }

    internal int MaxRequestBytes => ChannelOptions?.MaxSendMessageSize ?? GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>The largest encoded event that fits a request.</summary>
    internal int MaxEventBytes => MaxRequestBytes - RequestEnvelopeBytes;

    internal EventStreamProducerOptions Clone() => (EventStreamProducerOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    internal void Validate()
    {
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid(nameof(Address), $"must be an absolute http:// or https:// address, not '{Address}'");
        }
        Require(MaxBatchEvents >= 1, nameof(MaxBatchEvents), $"must be at least 1, not {MaxBatchEvents}");
        Require(MaxRequestBytes > RequestEnvelopeBytes, nameof(ChannelOptions), $"MaxSendMessageSize must exceed {RequestEnvelopeBytes} bytes, not {MaxRequestBytes}");
        Require(MaxBatchBytes >= 1 && MaxBatchBytes <= MaxEventBytes, nameof(MaxBatchBytes),
            $"must be between 1 and {MaxEventBytes} (the channel's message size limit {MaxRequestBytes} less {RequestEnvelopeBytes}), not {MaxBatchBytes}");
        Require(MaxInFlight >= 1, nameof(MaxInFlight), $"must be at least 1, not {MaxInFlight}");
        Require(MaxRetries >= 0, nameof(MaxRetries), $"must not be negative, not {MaxRetries}");
        Require(DeliveryTimeout > TimeSpan.Zero && DeliveryTimeout <= MaxDeliveryTimeout, nameof(DeliveryTimeout),
            $"must be positive and at most {MaxDeliveryTimeout}, not {DeliveryTimeout}");
        Require(Linger >= TimeSpan.Zero && Linger < DeliveryTimeout, nameof(Linger), $"must be at least zero and less than DeliveryTimeout ({DeliveryTimeout}), not {Linger}");
        Require(AttemptTimeout > TimeSpan.Zero && AttemptTimeout <= DeliveryTimeout, nameof(AttemptTimeout),
            $"must be positive and at most DeliveryTimeout ({DeliveryTimeout}), not {AttemptTimeout}");
        Require(DeliveryTimeout >= Linger + AttemptTimeout, nameof(DeliveryTimeout),
            $"must be at least Linger + AttemptTimeout ({Linger + AttemptTimeout}), not {DeliveryTimeout}");
        Require(RetryBackoff > TimeSpan.Zero, nameof(RetryBackoff), $"must be positive, not {RetryBackoff}");
        Require(MaxRetryBackoff >= RetryBackoff && MaxRetryBackoff <= DeliveryTimeout, nameof(MaxRetryBackoff),
            $"must be between RetryBackoff ({RetryBackoff}) and DeliveryTimeout ({DeliveryTimeout}), not {MaxRetryBackoff}");
        if (EnableIdempotence)
        {
            Require(!string.IsNullOrWhiteSpace(ProducerId), nameof(ProducerId), "must not be empty when EnableIdempotence is on");
            Require(MaxInFlight <= MaxInFlightWithIdempotence, nameof(MaxInFlight),
                $"must be at most {MaxInFlightWithIdempotence} when EnableIdempotence is on, not {MaxInFlight}");
            Require(ProducerId.Length <= MaxProducerIdLength, nameof(ProducerId), $"must have at most {MaxProducerIdLength} characters, not {ProducerId.Length}");
        }
    }

    private static void Require(bool condition, string setting, string problem)
    {
        if (!condition)
        {
            throw Invalid(setting, problem);
        }
    }

    private static ArgumentException Invalid(string setting, string problem) =>
        new($"EventStreamProducerOptions.{setting} {problem}.", setting);
}
