namespace EventStream.Broker.Storage;

/// <summary>How the broker reaches its database. Bound from <c>EventStream:Database</c>.</summary>
/// <remarks>
/// With the connection string <c>ConnectionStrings:EventStream</c> set, the broker uses that
/// server; without it, it starts its own (see <c>EventStream:Embedded</c>).
/// </remarks>
public sealed class DatabaseOptions
{
    /// <summary>Configuration section the options are bound from.</summary>
    public const string SectionName = "EventStream:Database";

    /// <summary>Name of the connection string in <c>ConnectionStrings</c>.</summary>
    public const string ConnectionStringName = "EventStream";

    /// <summary>How long to wait for a configured server to accept connections at start.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
