namespace EventStream.Protocol;

/// <summary>How a broker sends a consumer group's members to the broker that runs the group.</summary>
public static class CoordinatorRedirect
{
    /// <summary>
    /// Trailer of an <c>UNAVAILABLE</c> status: the address of the broker that runs the consumer group
    /// (e.g. <c>http://10.0.0.5:7400</c>). Brokers sharing a database run each group on one of them;
    /// the others answer the group's calls this way, and clients reconnect to that address.
    /// </summary>
    public const string MetadataKey = "eventstream-coordinator";
}
