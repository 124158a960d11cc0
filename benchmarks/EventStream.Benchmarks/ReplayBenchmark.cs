using System.Diagnostics;
using EventStream.Client;
using EventStream.Protocol.V1;

namespace EventStream.Benchmarks;

/// <summary>
/// A new one-member group draining events already stored (from earliest): the table read, the
/// delivery to the SDK and the commits, measured from the member's start to its last event.
/// </summary>
internal static class ReplayBenchmark
{
    /// <param name="Rate">Events per second from the member's start (joining, making the group's slot) to its last event.</param>
    /// <param name="DrainRate">Events per second from its first event to its last.</param>
    public sealed record Result(int Events, double Rate, double DrainRate, string Cpu);

    public static async Task<Result> MeasureAsync(BenchmarkBroker broker, int events, int payloadBytes)
    {
        var topic = await ProduceBenchmark.CreateTopicAsync(broker, "bench-replay-" + Guid.NewGuid().ToString("N")[..8]);
        // Stored directly, as fast as COPY goes: the replay, not the produce path, is measured.
        await CopyBaseline.MeasureAsync(broker.Database, topic.Id, events, payloadBytes);
        await using (var analyze = broker.Database.CreateCommand("ANALYZE eventstream.events"))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var group = "bench-replay-" + Guid.NewGuid().ToString("N")[..8];
        var cpu = CpuMeter.Start();
        var watch = Stopwatch.StartNew();
        var consumer = new EventStreamConsumer(new EventStreamConsumerOptions
        {
            Address = broker.Process.Address,
            Group = group,
            Topics = [topic.Name],
            StartPosition = StartPosition.Earliest,
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var received = 0;
        var first = TimeSpan.Zero;
        await foreach (var _ in consumer.ConsumeAsync(timeout.Token))
        {
            if (++received == 1)
            {
                first = watch.Elapsed;
            }
            if (received == events)
            {
                break;
            }
        }
        var elapsed = watch.Elapsed;
        var result = new Result(events, events / elapsed.TotalSeconds, (events - 1) / (elapsed - first).TotalSeconds, cpu.PerEvent(events));
        await consumer.DisposeAsync();
        // Its slot would decode the WAL of what the run does next.
        await new Admin.AdminClient(broker.Process.Channel).DeleteGroupAsync(new DeleteGroupRequest { Group = group });
        return result;
    }

    /// <summary>
    /// A smaller replay, discarded: the broker is a long-running server, and a fresh process spends
    /// its first second or two in the JIT (tiered compilation), which would weigh on small runs.
    /// </summary>
    public static async Task WarmUpAsync(BenchmarkBroker broker, int payloadBytes) => await MeasureAsync(broker, 50_000, payloadBytes);
}
