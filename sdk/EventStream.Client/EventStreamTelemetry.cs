// Owns the SDK's ActivitySources (producer, consumer) and the W3C trace context it puts in and reads from event headers.
using System.Diagnostics;
using System.Globalization;

namespace EventStream.Client;

/// <summary>
/// The SDK's tracing, per the OpenTelemetry messaging semantic conventions: a producer span per
/// produce call ("send {topic}", whose context goes into each event's <c>traceparent</c> header
/// unless the event has one) and a consumer span per event handed to the application
/// ("process {topic}", a child of and linked to the event's <c>traceparent</c>), lasting until the
/// application asks for the next event. Add <see cref="ProducerSourceName"/> and
/// <see cref="ConsumerSourceName"/> to a tracer provider to record them; without a listener
/// nothing is created.
/// </summary>
public static class EventStreamTelemetry
{
    /// <summary>The ActivitySource of <see cref="EventStreamProducer"/>.</summary>
    public const string ProducerSourceName = "EventStream.Client.Producer";

    /// <summary>The ActivitySource of <see cref="EventStreamConsumer"/>.</summary>
    public const string ConsumerSourceName = "EventStream.Client.Consumer";

    internal const string TraceParentHeader = "traceparent";
    internal const string TraceStateHeader = "tracestate";
    private const string MessagingSystem = "eventstream";

    internal static readonly ActivitySource Producer = new(ProducerSourceName);
    internal static readonly ActivitySource Consumer = new(ConsumerSourceName);

    /// <summary>A span for a produce call, or null when nothing listens.</summary>
    internal static Activity? StartSend(string topic, int events)
    {
        if (!Producer.HasListeners())
        {
            return null;
        }
        var activity = Producer.StartActivity($"send {topic}", ActivityKind.Producer);
        activity?.SetTag("messaging.system", MessagingSystem)
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.operation.type", "send")
            .SetTag("messaging.operation.name", "send")
            .SetTag("messaging.batch.message_count", events);
        return activity;
    }

    /// <summary>Ends a produce call's span when its events were acknowledged or failed.</summary>
    internal static void EndWhenDone(Activity activity, Task call) =>
        call.ContinueWith(static (done, state) =>
        {
            var activity = (Activity)state!;
            if (done.IsFaulted)
            {
                activity.SetStatus(ActivityStatusCode.Error, done.Exception!.InnerException!.GetType().Name);
            }
            activity.Dispose();
        }, activity, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>The W3C traceparent of a span.</summary>
    internal static string TraceParent(Activity activity) =>
        $"00-{activity.TraceId.ToHexString()}-{activity.SpanId.ToHexString()}-{(activity.Recorded ? "01" : "00")}";

    /// <summary>A span for processing one event, or null when nothing listens.</summary>
    internal static Activity? StartProcess(ConsumedEvent e, string group)
    {
        if (!Consumer.HasListeners())
        {
            return null;
        }
        ActivityContext parent = default;
        ActivityLink[]? links = null;
        if (e.Headers.TryGetValue(TraceParentHeader, out var traceParent)
            && ActivityContext.TryParse(traceParent, e.Headers.GetValueOrDefault(TraceStateHeader), isRemote: true, out var context))
        {
            parent = context;
            links = [new ActivityLink(context)];
        }
        var activity = Consumer.StartActivity($"process {e.Topic}", ActivityKind.Consumer, parent, links: links);
        activity?.SetTag("messaging.system", MessagingSystem)
            .SetTag("messaging.destination.name", e.Topic)
            .SetTag("messaging.consumer.group.name", group)
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.operation.name", "process")
            .SetTag("messaging.message.id", e.EventId.ToString(CultureInfo.InvariantCulture))
            .SetTag("messaging.destination.partition.id", e.Shard.ToString(CultureInfo.InvariantCulture));
        return activity;
    }
}
