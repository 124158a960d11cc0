using EventStream.Client.Transport;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace EventStream.Client;

/// <summary>Settings of an <see cref="EventStreamProducer"/>.</summary>
/// <remarks>
/// <para>
/// Constraints between settings, checked when the producer is created:
/// <see cref="DeliveryTimeout"/> ≥ <see cref="Linger"/> + <see cref="AttemptTimeout"/> (an event must
/// get at least one full attempt) and at most <see cref="MaxDeliveryTimeout"/>;
/// <see cref="RetryBackoff"/> ≤ <see cref="MaxRetryBackoff"/> ≤ <see cref="DeliveryTimeout"/>;
/// with <see cref="EnableIdempotence"/>, <see cref="MaxInFlight"/> ≤ <see cref="MaxInFlightWithIdempotence"/>;
/// <see cref="MaxBatchBytes"/> ≤ <see cref="ChannelOptions"/>' <see cref="GrpcChannelOptions.MaxSendMessageSize"/>
/// (4 MiB when not set, the broker's default limit) less <see cref="RequestEnvelopeBytes"/> for the rest of the request;
/// <see cref="HttpHandler"/> not with <see cref="Channel"/>, nor with a handler or HttpClient in <see cref="ChannelOptions"/>.
/// </para>
/// <para>
/// The transport: by default the producer creates a <see cref="GrpcChannel"/> for <see cref="Address"/> with
/// <see cref="ChannelOptions"/> and <see cref="HttpHandler"/>, and disposes it with itself. Pass
/// <see cref="Channel"/> to use a channel of your own instead. <see cref="Interceptors"/> apply to every call
/// either way. Registered with <c>AddEventStreamProducer</c>, the channel comes from the gRPC client factory
/// instead, and these settings are applied to it (see that method).
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

    /// <summary>The largest request when <see cref="ChannelOptions"/> sets no <see cref="GrpcChannelOptions.MaxSendMessageSize"/>: 4 MiB, the broker's default limit.</summary>
    internal const int DefaultMaxRequestBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The broker's address, <c>http://</c> (cleartext HTTP/2) or <c>https://</c>. Default <c>http://127.0.0.1:7400</c>.
    /// Ignored when <see cref="Channel"/> is set.
    /// </summary>
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
    /// A gRPC channel of your own to send through, e.g. one shared with other clients or set up with
    /// credentials or a load-balancing resolver. When set, <see cref="Address"/> is ignored, and the producer
    /// neither configures nor disposes the channel. Default null: the producer creates its own channel.
    /// </summary>
    /// <remarks>
    /// Must not be combined with <see cref="HttpHandler"/>. The producer cannot read the channel's message size
    /// limit: if it is below 4 MiB, set the same <see cref="GrpcChannelOptions.MaxSendMessageSize"/> in
    /// <see cref="ChannelOptions"/> so batches are sized to fit.
    /// </remarks>
    public GrpcChannel? Channel { get; set; }

    /// <summary>
    /// Settings of the channel the producer creates for <see cref="Address"/>, e.g. credentials, message size
    /// limits or a logger factory; copied, never changed. Default null: grpc-dotnet's defaults, with the
    /// producer's handler (see <see cref="HttpHandler"/>) and no response compression.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <see cref="GrpcChannelOptions.CompressionProviders"/> left null means no compression here, unlike
    /// grpc-dotnet where null means gzip: the producer does not advertise gzip in <c>grpc-accept-encoding</c>,
    /// so the broker answers uncompressed and neither side spends CPU on it. Set providers to receive compressed answers.
    /// </para>
    /// <para>
    /// <see cref="GrpcChannelOptions.MaxSendMessageSize"/> (4 MiB when null) bounds <see cref="MaxBatchBytes"/> and
    /// the largest event. A <see cref="GrpcChannelOptions.HttpHandler"/> or <see cref="GrpcChannelOptions.HttpClient"/>
    /// set here is disposed with the channel only if <see cref="GrpcChannelOptions.DisposeHttpClient"/> says so.
    /// </para>
    /// </remarks>
    public GrpcChannelOptions? ChannelOptions { get; set; }

    /// <summary>
    /// The HTTP handler the producer's channel sends through, e.g. a <see cref="SocketsHttpHandler"/> with TLS
    /// client certificates or a proxy, or a test server's handler. The producer does not dispose it. Default
    /// null: a <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings every 60 s (30 s timeout),
    /// connections kept while idle, and more connections when one is full.
    /// </summary>
    /// <remarks>Must not be combined with <see cref="Channel"/>, nor with a handler or HttpClient in <see cref="ChannelOptions"/>.</remarks>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Interceptors applied to every call the producer makes (<c>channel.Intercept(...)</c>), e.g. to add
    /// headers or trace calls; the first in the list sees a call first. Default empty.
    /// </summary>
    public IList<Interceptor> Interceptors { get; set; } = new List<Interceptor>();

    internal int MaxRequestBytes => ChannelOptions?.MaxSendMessageSize ?? DefaultMaxRequestBytes;

    /// <summary>The largest encoded event that fits a request.</summary>
    internal int MaxEventBytes => MaxRequestBytes - RequestEnvelopeBytes;

    /// <summary>
    /// Credentials for a broker with authentication on: <see cref="EventStreamCredentials.FromApiKey"/>,
    /// <see cref="EventStreamCredentials.FromTokenProvider"/> (refreshing JWTs) or
    /// <see cref="EventStreamCredentials.FromClientCertificate"/>. Default null: none are sent.
    /// </summary>
    public EventStreamCredentials? Credentials { get; set; }

    internal TransportSettings Transport => new(nameof(EventStreamProducerOptions), Address, Channel, ChannelOptions, HttpHandler, Interceptors, Credentials);

    internal EventStreamProducerOptions Clone()
    {
        var clone = (EventStreamProducerOptions)MemberwiseClone();
        clone.Interceptors = Interceptors is null ? null! : new List<Interceptor>(Interceptors);
        return clone;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    internal void Validate()
    {
        Transport.Validate();
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
