// Owns the end-to-end trace test: one event's producer, broker and consumer spans in one trace.
using System.Collections.Concurrent;
using System.Diagnostics;
using EventStream.Client.Tests.Fakes;
using EventStream.Protocol.V1;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// The SDK's spans, seen by an in-process listener, and the broker's, exported by a real broker
/// process over OTLP to a receiver in the test, follow one event from producer to consumer.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Producer_broker_and_consumer_spans_of_one_event_share_one_trace()
    {
        var local = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is EventStreamTelemetry.ProducerSourceName or EventStreamTelemetry.ConsumerSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = local.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        var directory = Path.Combine("/tmp", "eventstream-trace-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await using var broker = BrokerProcess.Start(new Dictionary<string, string>
            {
                ["EventStream__Embedded__DataDirectory"] = directory,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Address,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                // Export spans within a fraction of a second instead of the default 5 s.
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            });
            await broker.WaitUntilServingAsync();
            var topic = "traced-" + Guid.NewGuid().ToString("N");
            await new Admin.AdminClient(broker.Channel).CreateTopicAsync(new CreateTopicRequest { Name = topic }).ResponseAsync;

            await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = broker.Address });
            var delivery = await producer.ProduceAsync(topic, key: "k", payload: "traced");
            await using var consumer = new EventStreamConsumer(new EventStreamConsumerOptions
            {
                Address = broker.Address,
                Group = "g-" + Guid.NewGuid().ToString("N"),
                Topics = { topic },
                StartPosition = StartPosition.Earliest,
            });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            ConsumedEvent? received = null;
            await foreach (var e in consumer.ConsumeAsync(timeout.Token))
            {
                received = e;
                break;
            }

            Assert.Equal(delivery.EventId, received!.EventId);
            // The listener hears every test of the process; only this topic's spans are this test's.
            var mine = local.Where(a => Equals(a.GetTagItem("messaging.destination.name"), topic)).ToList();
            var send = Assert.Single(mine, a => a.Source.Name == EventStreamTelemetry.ProducerSourceName);
            Assert.Equal(ActivityKind.Producer, send.Kind);
            Assert.Equal($"00-{send.TraceId}-{send.SpanId}-01", received.Headers["traceparent"]);
            var process = Assert.Single(mine, a => a.Source.Name == EventStreamTelemetry.ConsumerSourceName);
            Assert.Equal(ActivityKind.Consumer, process.Kind);
            Assert.Equal(send.TraceId, process.TraceId);
            Assert.Equal(send.SpanId, process.ParentSpanId);
            Assert.Contains(process.Links, link => link.Context.SpanId == send.SpanId);

            var traceId = send.TraceId.ToHexString();
            await Wait.UntilAsync(
                () => receiver.Spans.Any(s => s.Name == $"publish {topic}") && receiver.Spans.Any(s => s.Name == $"deliver {topic}"),
                "the broker exported its publish and deliver spans", TimeSpan.FromSeconds(30));
            var publish = receiver.Spans.Single(s => s.Name == $"publish {topic}");
            var deliver = receiver.Spans.Single(s => s.Name == $"deliver {topic}");
            Assert.Equal("EventStream.Broker.Produce", publish.Scope);
            Assert.Equal("EventStream.Broker.Delivery", deliver.Scope);
            Assert.Equal((traceId, send.SpanId.ToHexString()), (publish.TraceId, publish.ParentSpanId));
            Assert.Equal((traceId, send.SpanId.ToHexString()), (deliver.TraceId, deliver.ParentSpanId));
            // A clean stop also stops the broker's embedded PostgreSQL.
            await consumer.DisposeAsync();
            await broker.StopAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean up.
            }
        }
    }
}
