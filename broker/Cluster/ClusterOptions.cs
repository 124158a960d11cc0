namespace EventStream.Broker.Cluster;

/// <summary>
/// How brokers sharing one database find each other. Bound from <c>EventStream:Cluster</c>
/// (e.g. <c>EventStream__Cluster__AdvertisedAddress</c>).
/// </summary>
/// <remarks>
/// Each consumer group is run by one broker at a time, the holder of the group's coordinator lease
/// in the database; the other brokers answer the group's members with <c>UNAVAILABLE</c> and the
/// holder's <see cref="AdvertisedAddress"/>. The holder renews its lease every third of
/// <see cref="CoordinatorLeaseDuration"/>; when a broker dies, another takes its groups over once the
/// lease has expired, so the duration bounds how long a group pauses after a crash.
/// </remarks>
public sealed class ClusterOptions
{
    /// <summary>Configuration section the options are bound from.</summary>
    public const string SectionName = "EventStream:Cluster";

    /// <summary>The shortest lease allowed.</summary>
    public static readonly TimeSpan MinCoordinatorLeaseDuration = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where clients reach this broker, sent to members redirected to it, e.g.
    /// <c>http://broker-1.internal:7400</c>. Default: the first address Kestrel listens on, as
    /// bound (a wildcard host such as <c>0.0.0.0</c> becomes the machine's host name). Set it when
    /// clients reach the broker by another name, through a proxy or a container port mapping.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// This broker's id among the brokers sharing its database, 1 to 64 characters from A-Z, a-z,
    /// 0-9, '.', '_' and '-'. It stays the same across restarts, so a restarted broker takes its
    /// groups back at once instead of waiting for their leases to expire; two running brokers must
    /// never share one. Default: on the embedded PostgreSQL, an id kept in the data directory (file
    /// <c>broker-id</c>; the directory is locked to one process); with an external database, a new
    /// id for every process.
    /// </summary>
    public string? BrokerId { get; set; }

    /// <summary>
    /// How long a group's coordinator lease lasts unless renewed; renewed every third of it.
    /// Default 10 s, at least 1 s. A broker that cannot renew in time stops running the group.
    /// </summary>
    public TimeSpan CoordinatorLeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a held lease is renewed: a third of <see cref="CoordinatorLeaseDuration"/>.</summary>
    public TimeSpan RenewInterval => CoordinatorLeaseDuration / 3;
}
