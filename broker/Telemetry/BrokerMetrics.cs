// Owns the broker's own instruments (meter EventStream.Broker) and their pre-built tag lists.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EventStream.Broker.Telemetry;

/// <summary>
/// The broker's counters and histograms, named after the OpenTelemetry messaging semantic
/// conventions where they have a name and <c>eventstream.*</c> otherwise (docs/metrics.md). Tag
/// lists are built once per topic and per (group, topic), so recording allocates nothing; every
/// method returns at once when nothing listens.
/// </summary>
internal sealed class BrokerMetrics
{
    public const string MeterName = "EventStream.Broker";
    public const string System = "eventstream";

    private readonly ConcurrentDictionary<string, KeyValuePair<string, object?>[]> _topicTags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Group, string Topic), KeyValuePair<string, object?>[]> _groupTopicTags = new();
    private readonly ConcurrentDictionary<string, KeyValuePair<string, object?>[]> _rejectedTags = new(StringComparer.Ordinal);

    private readonly Counter<long> _producedEvents;
    private readonly Counter<long> _producedBytes;
    private readonly Counter<long> _producedBatches;
    private readonly Counter<long> _rejectedBatches;
    private readonly Histogram<double> _ackDuration;
    private readonly Counter<long> _deliveredEvents;
    private readonly Counter<long> _committedEvents;
    private readonly Counter<long> _redeliveredEvents;
    private readonly Histogram<double> _deliveryDuration;

    public BrokerMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _producedEvents = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}",
            "Events stored and acknowledged to producers.");
        _producedBytes = Meter.CreateCounter<long>("eventstream.produce.bytes", "By",
            "Key and payload bytes of the events stored.");
        _producedBatches = Meter.CreateCounter<long>("eventstream.produce.batches", "{batch}",
            "Produce batches stored (a resent idempotent batch is not stored again and not counted).");
        _rejectedBatches = Meter.CreateCounter<long>("eventstream.produce.rejected_batches", "{batch}",
            "Produce batches refused or failed, by error.type (the gRPC status).");
        _ackDuration = Meter.CreateHistogram<double>("eventstream.produce.ack.duration", "s",
            "From a batch's arrival to its commit, when it is acknowledged.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _deliveredEvents = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}",
            "Events handed to members of consumer groups (redeliveries included).");
        _committedEvents = Meter.CreateCounter<long>("eventstream.consume.committed", "{message}",
            "Buffered events a group's members committed on this broker.");
        _redeliveredEvents = Meter.CreateCounter<long>("eventstream.consume.redelivered", "{message}",
            "Events handed to a member again (a new session, a Poll answering again, a moved shard).");
        _deliveryDuration = Meter.CreateHistogram<double>("eventstream.delivery.duration", "s",
            "From an event's ingest time (its commit in PostgreSQL) to its first hand-over to a member.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
    }

    public Meter Meter { get; }

    public bool ProduceEnabled => _producedEvents.Enabled || _producedBytes.Enabled || _producedBatches.Enabled || _ackDuration.Enabled;

    public bool DeliveryEnabled => _deliveredEvents.Enabled || _deliveryDuration.Enabled || _redeliveredEvents.Enabled;

    public bool CommitsEnabled => _committedEvents.Enabled;

    /// <summary>A batch was committed and acknowledged.</summary>
    public void Produced(string topic, int events, long bytes, long receivedAt)
    {
        var tags = TopicTags(topic);
        _producedEvents.Add(events, tags);
        _producedBytes.Add(bytes, tags);
        _producedBatches.Add(1, tags);
        if (_ackDuration.Enabled)
        {
            _ackDuration.Record(Stopwatch.GetElapsedTime(receivedAt).TotalSeconds, tags);
        }
    }

    /// <summary>A batch was refused or failed; <paramref name="topic"/> is null when it named no known topic.</summary>
    public void Rejected(string? topic, string errorType)
    {
        if (!_rejectedBatches.Enabled)
        {
            return;
        }
        var tags = _rejectedTags.GetOrAdd((topic ?? "") + "\n" + errorType, static (_, state) => state.topic is null
            ? [new("messaging.system", System), new("error.type", state.errorType)]
            : [new("messaging.system", System), new("messaging.destination.name", state.topic), new("error.type", state.errorType)],
            (topic, errorType));
        _rejectedBatches.Add(1, tags);
    }

    /// <summary>One event handed to a member; <paramref name="again"/> when it had been handed over before.</summary>
    public void Delivered(string group, string topic, DateTime ingestTime, bool again)
    {
        var tags = GroupTopicTags(group, topic);
        _deliveredEvents.Add(1, tags);
        if (again)
        {
            _redeliveredEvents.Add(1, tags);
        }
        else if (_deliveryDuration.Enabled)
        {
            _deliveryDuration.Record(Math.Max(0, (DateTime.UtcNow - ingestTime).TotalSeconds), tags);
        }
    }

    public void Committed(string group, string topic, int events) => _committedEvents.Add(events, GroupTopicTags(group, topic));

    private ReadOnlySpan<KeyValuePair<string, object?>> TopicTags(string topic) =>
        _topicTags.GetOrAdd(topic, static t => [new("messaging.system", System), new("messaging.destination.name", t)]);

    private ReadOnlySpan<KeyValuePair<string, object?>> GroupTopicTags(string group, string topic) =>
        _groupTopicTags.GetOrAdd((group, topic), static key =>
            [new("messaging.system", System), new("messaging.destination.name", key.Topic), new("messaging.consumer.group.name", key.Group)]);
}
