namespace EventStream.Broker.Topics;

/// <summary>Topic settings (section <c>EventStream:Topics</c>).</summary>
internal sealed class TopicOptions
{
    public const string SectionName = "EventStream:Topics";

    /// <summary>Retention of topics created without one. Default 7 days.</summary>
    public TimeSpan DefaultRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Longest retention a topic may have (OUT_OF_RANGE past it), so retention arithmetic in the
    /// database stays within its time range. Default 100 years (36,500 days).
    /// </summary>
    public TimeSpan MaxRetention { get; set; } = TimeSpan.FromDays(36_500);

    /// <summary>Create a topic on its first produce instead of answering NOT_FOUND. Default off.</summary>
    public bool AutoCreate { get; set; }

    /// <summary>How long a broker trusts its cached view of a topic. Default 5 s.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(5);
}
