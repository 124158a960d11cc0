using System.Diagnostics;
using EventStream.Client;
using EventStream.Protocol.V1;
using Npgsql;

namespace EventStream.Benchmarks;

/// <summary>Produce through the SDK to the broker, measured end to end (until every event is acknowledged).</summary>
internal static class ProduceBenchmark
{
    public static async Task<(string Name, int Id)> CreateTopicAsync(BenchmarkBroker broker, string name)
    {
        await new Admin.AdminClient(broker.Channel).CreateTopicAsync(new CreateTopicRequest { Name = name });
        await using var command = broker.Database.CreateCommand("SELECT topic_id FROM eventstream.topics WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (name, (int)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>JIT, connection pools and the first partitions, so round 1 is not penalised.</summary>
    public static async Task WarmUpAsync(BenchmarkBroker broker, (string Name, int Id) topic)
    {
        await MeasureThroughputAsync(broker, topic.Name, 50_000, 200);
        await CopyBaseline.MeasureAsync(broker.Database, topic.Id, 50_000, 200);
    }

    /// <summary>Events per ProduceBatchAsync call in the throughput run.</summary>
    public const int EventsPerCall = 1000;

    /// <summary>
    /// Calls the throughput run keeps outstanding: enough to keep the producer's requests in flight
    /// full, few enough that the events waiting in memory stay bounded, as in a real producer.
    /// </summary>
    public const int CallsOutstanding = 32;

    /// <summary>
    /// Throughput with batching: the SDK's batch API, many calls in flight, default producer
    /// options (idempotence on); timed until every event is acknowledged.
    /// </summary>
    public static async Task<double> MeasureThroughputAsync(BenchmarkBroker broker, string topic, int events, int payloadBytes)
    {
        await using var producer = new EventStreamProducer(broker.ProducerOptions());
        var payload = new byte[payloadBytes];
        Random.Shared.NextBytes(payload);
        var watch = Stopwatch.StartNew();
        var calls = new Queue<Task<IReadOnlyList<DeliveryResult>>>();
        for (var first = 0; first < events; first += EventsPerCall)
        {
            if (calls.Count >= CallsOutstanding)
            {
                await calls.Dequeue();
            }
            var batch = new ProducerEvent[Math.Min(EventsPerCall, events - first)];
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = new ProducerEvent(payload, Key(first + i));
            }
            calls.Enqueue(producer.ProduceBatchAsync(topic, batch));
        }
        await Task.WhenAll(calls);
        return events / watch.Elapsed.TotalSeconds;
    }

    public static async Task<LatencySummary> MeasureLatencyAsync(BenchmarkBroker broker, string topic, int rate, int seconds, int payloadBytes)
    {
        await using var producer = new EventStreamProducer(broker.ProducerOptions());
        var payload = new byte[payloadBytes];
        Random.Shared.NextBytes(payload);
        var total = rate * seconds;
        var samples = new Task<TimeSpan>[total];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            // Open loop: event i is due at i / rate seconds, whatever happened to earlier ones.
            var wait = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            samples[i] = TimeAsync(producer, topic, new ProducerEvent(payload, Key(i)));
        }
        return LatencySummary.From(await Task.WhenAll(samples));
    }

    private static async Task<TimeSpan> TimeAsync(EventStreamProducer producer, string topic, ProducerEvent e)
    {
        var started = Stopwatch.GetTimestamp();
        await producer.ProduceAsync(topic, e);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>16-byte keys over 10,000 distinct values.</summary>
    private static byte[] Key(int i)
    {
        var key = new byte[16];
        BitConverter.TryWriteBytes(key, (long)(i % 10_000));
        return key;
    }
}
