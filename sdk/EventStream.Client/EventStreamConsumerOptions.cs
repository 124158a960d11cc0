using System.Text.RegularExpressions;
using EventStream.Client.Transport;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace EventStream.Client;

/// <summary>Settings of an <see cref="EventStreamConsumer"/>.</summary>
/// <remarks>
/// <para>
/// Constraints between settings, checked when the consumer is created:
/// <see cref="SessionTimeout"/> ≥ 3 × <see cref="HeartbeatInterval"/>, so a member keeps its shard leases
/// through two lost heartbeats (as Event Hubs sizes ownership expiry against its load-balancing
/// interval); <see cref="ReconnectBackoff"/> ≤ <see cref="MaxReconnectBackoff"/>; <see cref="HttpHandler"/> not with
/// <see cref="Channel"/>, nor with a handler or HttpClient in <see cref="ChannelOptions"/>.
/// </para>
/// <para>
/// The transport: by default the consumer creates a <see cref="GrpcChannel"/> for <see cref="Address"/> with
/// <see cref="ChannelOptions"/> and <see cref="HttpHandler"/>, and disposes it with itself. Pass
/// <see cref="Channel"/> to use a channel of your own instead. After a redirect to the broker that runs the
/// group, the consumer creates a channel to that broker with the same <see cref="ChannelOptions"/> and
/// <see cref="HttpHandler"/> (also when <see cref="Channel"/> is set, which cannot be pointed elsewhere).
/// <see cref="Interceptors"/> apply to every call on every channel. Registered with <c>AddEventStreamConsumer</c>,
/// channels come from the gRPC client factory instead, and these settings are applied to them (see that method).
/// </para>
/// <para>
/// The consumer copies the options when it is created; changing them afterwards has no effect on it.
/// When registered with <c>AddEventStreamConsumer</c>, the options bind from the configuration section
/// <see cref="ConfigurationSection"/> (e.g. <c>EventStream:Consumer:Group = billing</c>,
/// <c>EventStream:Consumer:Topics:0 = orders</c>, <c>EventStream:Consumer:StartPosition = Earliest</c>).
/// </para>
/// </remarks>
public sealed partial class EventStreamConsumerOptions
{
    /// <summary>The configuration section the options bind from: <c>EventStream:Consumer</c>.</summary>
    public const string ConfigurationSection = "EventStream:Consumer";

    /// <summary>The longest <see cref="MemberId"/>, in characters.</summary>
    public const int MaxMemberIdLength = 256;

    /// <summary>
    /// The broker's address, <c>http://</c> (cleartext HTTP/2) or <c>https://</c>. Default <c>http://127.0.0.1:7400</c>.
    /// </summary>
    /// <remarks>
    /// When several brokers share a database, one of them runs the group; the others answer with that
    /// broker's address and the consumer joins there (with the same <see cref="ChannelOptions"/>,
    /// <see cref="HttpHandler"/> and <see cref="Interceptors"/>). When that broker cannot be reached, or its
    /// session ends, the consumer comes back to this address (or <see cref="Channel"/>) after the reconnect
    /// backoff. Ignored when <see cref="Channel"/> is set.
    /// </remarks>
    public string Address { get; set; } = "http://127.0.0.1:7400";

    /// <summary>
    /// The consumer group: members of a group share its topics' shards, and the group's committed
    /// positions say where it stands. Required; 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-'.
    /// </summary>
    public string Group { get; set; } = "";

    /// <summary>The topics to consume: exact names, or prefixes ending in <c>*</c> (e.g. <c>orders.*</c>). At least one.</summary>
    public IList<string> Topics { get; set; } = new List<string>();

    /// <summary>
    /// Identifies this member to the group. Default a new GUID. A member that reconnects with the same id
    /// before its session timed out keeps its shards; give each instance its own id.
    /// </summary>
    public string MemberId { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>Where a new group starts; ignored when the group exists. Default <see cref="StartPosition.Latest"/>.</summary>
    public StartPosition StartPosition { get; set; } = StartPosition.Latest;

    /// <summary>
    /// How long the broker keeps a silent member's shards before giving them to others; also how long a
    /// handover may wait for the member to commit. Default 30 s; at least 3 × <see cref="HeartbeatInterval"/>.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the consumer tells the broker it is alive. Default 10 s; at most a third of <see cref="SessionTimeout"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often processed positions are committed in the background. Default 5 s; null commits only
    /// when <see cref="EventStreamConsumer.CommitAsync(CancellationToken)"/> is called. With auto-commit,
    /// processed positions are also committed when shards are revoked and when the consumer is disposed.
    /// </summary>
    public TimeSpan? AutoCommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most received events the consumer holds before they are consumed; reading from the broker
    /// pauses while it holds this many (unless a commit awaits its answer). Default 10,000.
    /// </summary>
    public int MaxBufferedEvents { get; set; } = 10_000;

    /// <summary>The wait before the first reconnect after the connection failed; it doubles with each attempt, with jitter. Default 100 ms.</summary>
    public TimeSpan ReconnectBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between reconnects. Default 5 s.</summary>
    public TimeSpan MaxReconnectBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Called with the shards newly assigned to this member, before their first event is returned. Runs
    /// on the consuming loop, between events; an exception it throws is logged and ends that
    /// <see cref="EventStreamConsumer.ConsumeAsync"/> enumeration.
    /// </summary>
    public Func<IReadOnlyList<int>, CancellationToken, Task>? ShardsAssigned { get; set; }

    /// <summary>
    /// Called with shards this member is giving up or lost, once no more of their events will be returned
    /// and (with auto-commit) their processed positions were committed. Commit here in manual mode: a
    /// shard being handed over still accepts commits. Runs on the consuming loop, between events; an
    /// exception it throws is logged and ends that <see cref="EventStreamConsumer.ConsumeAsync"/> enumeration.
    /// </summary>
    public Func<IReadOnlyList<int>, CancellationToken, Task>? ShardsRevoked { get; set; }

    /// <summary>
    /// A gRPC channel of your own to consume through, e.g. one shared with other clients or set up with
    /// credentials. When set, <see cref="Address"/> is ignored, and the consumer neither configures nor disposes
    /// the channel. Default null: the consumer creates its own channel.
    /// </summary>
    /// <remarks>
    /// Must not be combined with <see cref="HttpHandler"/>. A redirect to another broker cannot go through this
    /// channel: the consumer then creates (and later disposes) a channel to that broker from
    /// <see cref="ChannelOptions"/>, and comes back to this channel when that broker is lost.
    /// </remarks>
    public GrpcChannel? Channel { get; set; }

    /// <summary>
    /// Settings of the channels the consumer creates (for <see cref="Address"/>, and for brokers it is redirected
    /// to), e.g. credentials, message size limits or a logger factory; copied, never changed. Default null:
    /// grpc-dotnet's defaults, with the consumer's handler (see <see cref="HttpHandler"/>) and no response compression.
    /// </summary>
    /// <remarks>
    /// <see cref="GrpcChannelOptions.CompressionProviders"/> left null means no compression here, unlike grpc-dotnet
    /// where null means gzip: the consumer does not advertise gzip in <c>grpc-accept-encoding</c>, so the broker
    /// sends events uncompressed and neither side spends CPU on it. Set providers to receive compressed events.
    /// A <see cref="GrpcChannelOptions.HttpHandler"/> or <see cref="GrpcChannelOptions.HttpClient"/> set here is
    /// shared by all the consumer's channels and disposed only if <see cref="GrpcChannelOptions.DisposeHttpClient"/>
    /// says so, with the channel for <see cref="Address"/>.
    /// </remarks>
    public GrpcChannelOptions? ChannelOptions { get; set; }

    /// <summary>
    /// The HTTP handler the consumer's channels send through, e.g. a <see cref="SocketsHttpHandler"/> with TLS
    /// client certificates or a proxy. The consumer does not dispose it. Default null: for each channel a
    /// <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings every 60 s (30 s timeout), connections
    /// kept while idle, and more connections when one is full.
    /// </summary>
    /// <remarks>Must not be combined with <see cref="Channel"/>, nor with a handler or HttpClient in <see cref="ChannelOptions"/>.</remarks>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Interceptors applied to every call the consumer makes, on every channel (<c>channel.Intercept(...)</c>);
    /// the first in the list sees a call first. Default empty.
    /// </summary>
    public IList<Interceptor> Interceptors { get; set; } = new List<Interceptor>();

    /// <summary>
    /// Credentials for a broker with authentication on: <see cref="EventStreamCredentials.FromApiKey"/>,
    /// <see cref="EventStreamCredentials.FromTokenProvider"/> (refreshing JWTs) or
    /// <see cref="EventStreamCredentials.FromClientCertificate"/>. Default null: none are sent.
    /// </summary>
    public EventStreamCredentials? Credentials { get; set; }

    internal TransportSettings Transport => new(nameof(EventStreamConsumerOptions), Address, Channel, ChannelOptions, HttpHandler, Interceptors, Credentials);

    internal EventStreamConsumerOptions Clone()
    {
        var clone = (EventStreamConsumerOptions)MemberwiseClone();
        clone.Topics = Topics is null ? null! : new List<string>(Topics);
        clone.Interceptors = Interceptors is null ? null! : new List<Interceptor>(Interceptors);
        return clone;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    internal void Validate()
    {
        Transport.Validate();
        Require(Group is not null && GroupName().IsMatch(Group), nameof(Group),
            $"must be 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-', not '{Group}'");
        Require(Topics is { Count: > 0 }, nameof(Topics), "must name at least one topic");
        foreach (var topic in Topics!)
        {
            Require(topic is not null && topic.Length > 0 && TopicPattern().IsMatch(topic), nameof(Topics),
                $"must hold topic names or prefixes ending in '*', not '{topic}'");
        }
        Require(!string.IsNullOrWhiteSpace(MemberId) && MemberId.Length <= MaxMemberIdLength, nameof(MemberId),
            $"must have 1 to {MaxMemberIdLength} characters");
        Require(StartPosition is not null, nameof(StartPosition), "must be set");
        Require(HeartbeatInterval > TimeSpan.Zero, nameof(HeartbeatInterval), $"must be positive, not {HeartbeatInterval}");
        Require(SessionTimeout >= 3 * HeartbeatInterval, nameof(SessionTimeout),
            $"must be at least 3 × HeartbeatInterval ({3 * HeartbeatInterval}), not {SessionTimeout}");
        Require(AutoCommitInterval is null || AutoCommitInterval > TimeSpan.Zero, nameof(AutoCommitInterval),
            $"must be positive, or null for manual commits, not {AutoCommitInterval}");
        Require(MaxBufferedEvents >= 1, nameof(MaxBufferedEvents), $"must be at least 1, not {MaxBufferedEvents}");
        Require(ReconnectBackoff > TimeSpan.Zero, nameof(ReconnectBackoff), $"must be positive, not {ReconnectBackoff}");
        Require(MaxReconnectBackoff >= ReconnectBackoff, nameof(MaxReconnectBackoff),
            $"must be at least ReconnectBackoff ({ReconnectBackoff}), not {MaxReconnectBackoff}");
    }

    private static void Require(bool condition, string setting, string problem)
    {
        if (!condition)
        {
            throw Invalid(setting, problem);
        }
    }

    private static ArgumentException Invalid(string setting, string problem) =>
        new($"EventStreamConsumerOptions.{setting} {problem}.", setting);

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,249}\z")]
    private static partial Regex GroupName();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{0,249}\*?\z")]
    private static partial Regex TopicPattern();
}
