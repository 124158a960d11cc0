namespace EventStream.Broker.Consuming;

/// <summary>Consumer-group settings (section <c>EventStream:Consume</c>).</summary>
internal sealed class ConsumeOptions
{
    public const string SectionName = "EventStream:Consume";

    /// <summary>Session timeout of members that do not choose one. Default 30 s.</summary>
    public TimeSpan DefaultSessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Shortest session timeout a member may ask for. Default 1 s.</summary>
    public TimeSpan MinSessionTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest session timeout a member may ask for (INVALID_ARGUMENT past it): a member gone without
    /// leaving keeps its shards this long. Default 30 min.
    /// </summary>
    public TimeSpan MaxSessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Consumer groups the database may hold; creating one more is RESOURCE_EXHAUSTED. Each group
    /// keeps a replication slot per node (and a WAL sender while it runs), so keep this below
    /// PostgreSQL's <c>max_replication_slots</c>. Default 48 (the embedded database has 64 slots).
    /// </summary>
    public int MaxGroups { get; set; } = 48;

    /// <summary>Members one group may have at once on this broker; one more is RESOURCE_EXHAUSTED. Default 256.</summary>
    public int MaxMembersPerGroup { get; set; } = 256;

    /// <summary>Most shard commits in one Commit request (or Subscribe commit); more is RESOURCE_EXHAUSTED. Default 1,024.</summary>
    public int MaxCommitEntries { get; set; } = 1024;

    /// <summary>
    /// Events a group may hold decoded but not yet committed, across its shards; when reached,
    /// the broker stops reading the group's slot (WAL waits in PostgreSQL). Default 100,000.
    /// </summary>
    public int MaxBufferedEvents { get; set; } = 100_000;

    /// <summary>Bytes a group may hold decoded but not yet committed. Default 64 MiB.</summary>
    public long MaxBufferedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most events in one pushed batch. Default 500.</summary>
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>Longest wait a Poll may ask for; longer waits are cut to it. Default 30 s.</summary>
    public TimeSpan MaxPollWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a group without members keeps streaming before it stops (its slot stays). Default 1 min.</summary>
    public TimeSpan IdleGroupTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the slot's flush position is advanced. Default 1 s.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a retry of a failed slot stream waits. Default 1 s.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The heartbeat interval for a session timeout: a third of it, as leases need.</summary>
    public static TimeSpan HeartbeatFor(TimeSpan sessionTimeout) => sessionTimeout / 3;
}
