namespace EventStream.Broker.Topics;

/// <summary>A topic as stored in <c>eventstream.topics</c>.</summary>
internal sealed record TopicInfo(int Id, string Name, TimeSpan Retention, string Description, DateTime CreatedAt);
