using System.Text.RegularExpressions;
using EventStream.Grpc.Client;

namespace EventStream.Client;

/// <summary>Settings of an <see cref="EventStreamConsumer"/>.</summary>
/// <remarks>
/// <para>
/// Constraints between settings, checked when the consumer is created:
/// <see cref="SessionTimeout"/> ≥ 3 × <see cref="HeartbeatInterval"/>, so a member keeps its shard leases
/// through two lost heartbeats (as Event Hubs sizes ownership expiry against its load-balancing
/// interval); <see cref="ReconnectBackoff"/> ≤ <see cref="MaxReconnectBackoff"/>.
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
    /// broker's address and the consumer joins there (with the same <see cref="ChannelOptions"/>). When that
    /// broker cannot be reached, or its session ends, the consumer comes back to this address after the
    /// reconnect backoff.
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
    /// Settings of the gRPC channel, e.g. an <see cref="GrpcChannelOptions.HttpHandler"/> for TLS, a proxy
    /// or tests. Default: a plain HTTP/2 channel.
    /// </summary>
    public GrpcChannelOptions? ChannelOptions { get; set; }

    internal EventStreamConsumerOptions Clone()
    {
        var clone = (EventStreamConsumerOptions)MemberwiseClone();
        clone.Topics = Topics is null ? null! : new List<string>(Topics);
        return clone;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    internal void Validate()
    {
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid(nameof(Address), $"must be an absolute http:// or https:// address, not '{Address}'");
        }
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
