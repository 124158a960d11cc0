using System.Collections.Concurrent;
using System.Diagnostics;
using EventStream.Client;
using EventStream.Protocol.V1;

namespace EventStream.Benchmarks;

/// <summary>
/// Consumers of one group while producers write at full speed: does the group keep up, and how
/// long from a producer's acknowledgement to the consumer's delivery.
/// </summary>
internal static class ConsumeBenchmark
{
    public sealed record Throughput(int Members, double ProduceRate, double ConsumeRate, TimeSpan Trailing);

    /// <summary>
    /// Members join a new group, then <paramref name="events"/> are produced as fast as the SDK
    /// goes; the consume rate counts from the first send to the last delivery.
    /// </summary>
    public static async Task<Throughput> MeasureThroughputAsync(BenchmarkBroker broker, int members, int events, int payloadBytes)
    {
        var topic = await CreateTopicAsync(broker);
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var group = await Group.StartAsync(broker, topic, members, _ =>
        {
            if (Interlocked.Increment(ref received) == events)
            {
                done.TrySetResult();
            }
        });

        await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = broker.Process.Address });
        var payload = new byte[payloadBytes];
        var watch = Stopwatch.StartNew();
        var calls = new List<Task>();
        for (var first = 0; first < events; first += ProduceBenchmark.EventsPerCall)
        {
            var batch = Enumerable.Range(first, Math.Min(ProduceBenchmark.EventsPerCall, events - first))
                .Select(i => new ProducerEvent(payload, BitConverter.GetBytes(i % 1000))).ToArray();
            calls.Add(producer.ProduceBatchAsync(topic, batch));
        }
        await Task.WhenAll(calls);
        var produced = watch.Elapsed;
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        var consumed = watch.Elapsed;
        return new Throughput(members, events / produced.TotalSeconds, events / consumed.TotalSeconds, consumed - produced);
    }

    /// <summary>Open-loop produce at <paramref name="rate"/>; latency from each ack to its delivery.</summary>
    public static async Task<LatencySummary> MeasureLatencyAsync(BenchmarkBroker broker, int rate, int seconds, int payloadBytes)
    {
        var topic = await CreateTopicAsync(broker);
        var total = rate * seconds;
        var acked = new ConcurrentDictionary<long, long>();
        var delivered = new ConcurrentDictionary<long, long>();
        var deliveries = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var group = await Group.StartAsync(broker, topic, 1, e =>
        {
            // Counted apart: ConcurrentDictionary.Count takes every lock of the dictionary.
            if (delivered.TryAdd(e.EventId, Stopwatch.GetTimestamp()) && Interlocked.Increment(ref deliveries) == total)
            {
                done.TrySetResult();
            }
        });

        await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = broker.Process.Address });
        var payload = new byte[payloadBytes];
        var clock = Stopwatch.StartNew();
        var sends = new Task[total];
        for (var i = 0; i < total; i++)
        {
            var wait = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            sends[i] = AckAsync(producer, topic, new ProducerEvent(payload, BitConverter.GetBytes(i % 1000)), acked);
        }
        await Task.WhenAll(sends);
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        return LatencySummary.From(acked.Select(a => Stopwatch.GetElapsedTime(a.Value, Math.Max(a.Value, delivered[a.Key]))));
    }

    private static async Task AckAsync(EventStreamProducer producer, string topic, ProducerEvent e, ConcurrentDictionary<long, long> acked)
    {
        var delivery = await producer.ProduceAsync(topic, e);
        acked[delivery.EventId] = Stopwatch.GetTimestamp();
    }

    private static async Task<string> CreateTopicAsync(BenchmarkBroker broker)
    {
        var name = "bench-consume-" + Guid.NewGuid().ToString("N")[..8];
        await new Admin.AdminClient(broker.Process.Channel).CreateTopicAsync(new CreateTopicRequest { Name = name });
        return name;
    }

    /// <summary>Members of a fresh group, each consuming in its own loop until disposed.</summary>
    private sealed class Group : IAsyncDisposable
    {
        private readonly List<EventStreamConsumer> _consumers = [];
        private BenchmarkBroker? _broker;
        private string _name = "";
        private readonly List<Task> _loops = [];
        private readonly CancellationTokenSource _stop = new();

        public static async Task<Group> StartAsync(BenchmarkBroker broker, string topic, int members, Action<ConsumedEvent> onEvent)
        {
            var name = "bench-" + Guid.NewGuid().ToString("N")[..8];
            var group = new Group { _broker = broker, _name = name };
            for (var i = 0; i < members; i++)
            {
                var consumer = new EventStreamConsumer(new EventStreamConsumerOptions
                {
                    Address = broker.Process.Address,
                    Group = name,
                    Topics = [topic],
                    SessionTimeout = TimeSpan.FromSeconds(6),
                    HeartbeatInterval = TimeSpan.FromSeconds(2),
                });
                group._consumers.Add(consumer);
                group._loops.Add(Task.Run(async () =>
                {
                    try
                    {
                        await foreach (var e in consumer.ConsumeAsync(group._stop.Token))
                        {
                            onEvent(e);
                        }
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }));
            }
            // Balanced before producing starts, so no shard is mid-handover: within a few rounds.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (group._consumers.Sum(c => c.Assignment.Count) < 32 || group._consumers.Any(c => c.Assignment.Count < 32 / members))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("The group's members did not share the shards within 60 s.");
                }
                await Task.Delay(100);
            }
            return group;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
            foreach (var consumer in _consumers)
            {
                await consumer.DisposeAsync();
            }
            _stop.Dispose();
            // A group's slot decodes all WAL while the group is kept: later measurements would pay for it.
            await new Admin.AdminClient(_broker!.Process.Channel).DeleteGroupAsync(new DeleteGroupRequest { Group = _name });
        }
    }
}
