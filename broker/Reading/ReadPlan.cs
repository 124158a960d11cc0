using EventStream.Broker.Consuming;
using EventStream.Broker.Topics;
using EventStream.Broker.Validation;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Reading;

/// <summary>
/// A validated Read request: which of a topic's events to send and how. Every field is checked
/// before any reading, each violation INVALID_ARGUMENT naming the field.
/// </summary>
internal sealed class ReadPlan
{
    private readonly bool[] _shards;
    private readonly long?[] _after;

    private ReadPlan(TopicInfo topic, DateTime? from, bool[] shards, long?[] after, long maxEvents, bool follow, PayloadFormat format)
    {
        Topic = topic;
        From = from;
        _shards = shards;
        _after = after;
        MaxEvents = maxEvents;
        Follow = follow;
        Format = format;
    }

    public TopicInfo Topic { get; }

    /// <summary>Ingest time the start point reads from; null for LATEST (nothing stored before the call).</summary>
    public DateTime? From { get; }

    /// <summary>0: no limit.</summary>
    public long MaxEvents { get; }

    public bool Follow { get; }

    public PayloadFormat Format { get; }

    /// <summary>Whether anything stored before the call is read (a start point other than LATEST, or per-shard positions).</summary>
    public bool ReadsTable => From is not null || _after.Any(id => id is not null);

    /// <summary>The shards the table read covers, or null for all of them.</summary>
    public int[]? TableShards =>
        From is null ? Enumerable.Range(0, _shards.Length).Where(s => _shards[s] && _after[s] is not null).ToArray()
        : _shards.All(wanted => wanted) ? null
        : Enumerable.Range(0, _shards.Length).Where(s => _shards[s]).ToArray();

    /// <summary>The lowest ingest time the table read needs: shards with a position start anywhere.</summary>
    public DateTime TableFrom => _after.Any(id => id is not null) ? DateTime.MinValue : From ?? DateTime.MinValue;

    /// <summary>The event ids the table read starts after: the lowest position given, or none.</summary>
    public long TableAfterId => From is null ? _after.Where(id => id is not null).Min() ?? -1 : _after.Any(id => id is null) ? -1 : _after.Min() ?? -1;

    /// <summary>Whether the table read sends <paramref name="e"/>.</summary>
    public bool WantsFromTable(StreamedEvent e) =>
        _shards[e.Shard] && (_after[e.Shard] is { } after ? e.EventId > after : From is { } from && e.IngestTime >= from);

    /// <summary>Whether following sends <paramref name="e"/>, an event stored after the call began.</summary>
    public bool WantsFollowed(StreamedEvent e) => _shards[e.Shard] && (_after[e.Shard] is not { } after || e.EventId > after);

    public static async Task<ReadPlan> ValidateAsync(ReadRequest request, int shardCount, Func<string, Task<TopicInfo>> topicOf)
    {
        TopicNames.Validate(request.Topic);
        var from = StartPoints.From(request.Start);
        if (request.Start is { Kind: not StartPoint.Types.Kind.Time, Time: not null })
        {
            throw RequestRules.Invalid("start.time", "is only for a start point of kind TIME");
        }
        if (!System.Enum.IsDefined(request.PayloadFormat))
        {
            throw RequestRules.Invalid("payload_format", $"{(int)request.PayloadFormat} is not a payload format");
        }
        if (request.MaxEvents < 0)
        {
            throw RequestRules.Invalid("max_events", "must not be negative (0 for no limit)");
        }
        var shards = new bool[shardCount];
        Array.Fill(shards, request.Shards.Count == 0);
        foreach (var shard in request.Shards)
        {
            CheckShard("shards", shard, shardCount);
            shards[shard] = true;
        }
        var after = new long?[shardCount];
        foreach (var offset in request.After)
        {
            CheckShard("after.shard", offset.Shard, shardCount);
            if (offset.EventId < 0)
            {
                throw RequestRules.Invalid("after.event_id", "must not be negative");
            }
            if (after[offset.Shard] is not null)
            {
                throw RequestRules.Invalid("after", $"lists shard {offset.Shard} twice");
            }
            after[offset.Shard] = offset.EventId;
        }
        // Last: the only check that reads the database.
        var topic = await topicOf(request.Topic);
        return new ReadPlan(topic, from, shards, after, request.MaxEvents, request.Follow, request.PayloadFormat);
    }

    private static void CheckShard(string field, int shard, int shardCount)
    {
        if (shard < 0 || shard >= shardCount)
        {
            throw RequestRules.Invalid(field, $"shard {shard} is outside the cluster's shards 0 to {shardCount - 1}");
        }
    }
}
