// Owns the broker's ActivitySources (produce, delivery) and reading a W3C traceparent from event headers.
using System.Diagnostics;
using EventStream.Protocol.V1;
using Google.Protobuf.Collections;

namespace EventStream.Broker.Telemetry;

/// <summary>
/// The broker's spans: one per produce batch (<see cref="Produce"/>) and one per batch handed to a
/// member (<see cref="Delivery"/>), each joining the trace of the <c>traceparent</c> header of the
/// batch's first event that has one and linking the others, per the messaging semantic
/// conventions. Without a listener nothing is created (one check per batch).
/// </summary>
internal static class BrokerTracing
{
    public const string ProduceSourceName = "EventStream.Broker.Produce";
    public const string DeliverySourceName = "EventStream.Broker.Delivery";
    public const string TraceParentHeader = "traceparent";

    public static readonly ActivitySource Produce = new(ProduceSourceName);
    public static readonly ActivitySource Delivery = new(DeliverySourceName);

    /// <summary>A span for a produce batch of <paramref name="topic"/>, or null when nothing listens.</summary>
    public static Activity? StartProduce(string topic, RepeatedField<EventData> events)
    {
        if (!Produce.HasListeners())
        {
            return null;
        }
        var (parent, links) = Contexts(events.Select(e => e.Headers));
        var activity = Produce.StartActivity($"publish {topic}", ActivityKind.Server, parent, links: links);
        Tag(activity, topic, events.Count, "publish", "send");
        return activity;
    }

    /// <summary>Records the hand-over of a batch to a member, or nothing when nothing listens.</summary>
    public static void Delivered(string group, string topic, RepeatedField<Event> events)
    {
        if (!Delivery.HasListeners() || events.Count == 0)
        {
            return;
        }
        var (parent, links) = Contexts(events.Select(e => e.Headers));
        using var activity = Delivery.StartActivity($"deliver {topic}", ActivityKind.Producer, parent, links: links);
        Tag(activity, topic, events.Count, "send", "deliver");
        activity?.SetTag("messaging.consumer.group.name", group);
    }

    private static void Tag(Activity? activity, string topic, int count, string operationType, string operationName)
    {
        activity?.SetTag("messaging.system", BrokerMetrics.System)
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.operation.type", operationType)
            .SetTag("messaging.operation.name", operationName)
            .SetTag("messaging.batch.message_count", count);
    }

    /// <summary>The first valid trace context among the events' headers as parent, the other distinct ones as links.</summary>
    private static (ActivityContext Parent, List<ActivityLink>? Links) Contexts(IEnumerable<MapField<string, string>> headers)
    {
        ActivityContext parent = default;
        List<ActivityLink>? links = null;
        foreach (var map in headers)
        {
            if (!map.TryGetValue(TraceParentHeader, out var traceParent)
                || !ActivityContext.TryParse(traceParent, map.GetValueOrDefault("tracestate"), isRemote: true, out var context))
            {
                continue;
            }
            if (parent == default)
            {
                parent = context;
            }
            else if (context != parent && (links ??= []).All(l => l.Context != context))
            {
                links.Add(new ActivityLink(context));
            }
        }
        return (parent, links);
    }
}
