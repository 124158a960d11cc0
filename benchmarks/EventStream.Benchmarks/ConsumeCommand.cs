using System.Globalization;

namespace EventStream.Benchmarks;

internal static class ConsumeCommand
{
    public static async Task RunAsync(BenchmarkSettings settings)
    {
        var events = settings.EventsGiven ? settings.Events : 200_000;
        var rate = settings.RateGiven ? settings.Rate : 20_000;
        Console.WriteLine($"Starting a broker on a fresh embedded PostgreSQL ({Environment.ProcessorCount} cores)...");
        await using var broker = await BenchmarkBroker.StartAsync();
        if (settings.Replay > 0)
        {
            await ReplayBenchmark.WarmUpAsync(broker, settings.PayloadBytes);
            var replay = await ReplayBenchmark.MeasureAsync(broker, settings.Replay, settings.PayloadBytes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                replay, a new one-member group reading {replay.Events:N0} stored {settings.PayloadBytes}-byte events from earliest:
                  {replay.Rate,10:N0} events/s from the member's start, {replay.DrainRate:N0} from its first event   (goal >= 300,000)
                  CPU µs/event  {replay.Cpu}
                """));
            return;
        }
        // --events 0 measures only the latency and the steady load's cost.
        var results = new List<ConsumeBenchmark.Throughput>();
        if (events > 0)
        {
            await ConsumeBenchmark.MeasureThroughputAsync(broker, 1, 20_000, settings.PayloadBytes); // warm-up
        }
        foreach (var members in events > 0 ? new[] { 1, 4 } : [])
        {
            var result = await ConsumeBenchmark.MeasureThroughputAsync(broker, members, events, settings.PayloadBytes);
            results.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {members} member(s): produced {result.ProduceRate,9:N0} events/s, consumed {result.ConsumeRate,9:N0} events/s, last event {result.Trailing.TotalMilliseconds:N0} ms after the last ack"));
        }
        var latencyCpu = CpuMeter.Start();
        var latency = await ConsumeBenchmark.MeasureLatencyAsync(broker, rate, settings.Seconds, settings.PayloadBytes);
        var busy = latencyCpu.SecondsPer(rate * settings.Seconds, 100_000);
        // The cost of a steady, modest load: one member, 5,000 events/s.
        const int SteadyRate = 5_000;
        var cpu = CpuMeter.Start();
        var database = await DatabaseMeter.StartAsync(broker.Database);
        await ConsumeBenchmark.MeasureLatencyAsync(broker, SteadyRate, settings.Seconds, settings.PayloadBytes);
        var steady = cpu.SecondsPer(SteadyRate * settings.Seconds, 100_000);
        var steadyDatabase = await database.PerAsync(SteadyRate * settings.Seconds, 100_000);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"consume throughput, {settings.PayloadBytes}-byte events, {events:N0} produced while the group consumes:"));
        foreach (var result in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.Members} member(s): consume / produce rate = {result.ConsumeRate / result.ProduceRate:F2}   (keeping up: >= 0.95)"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            end-to-end latency, producer ack -> consumer delivery, at {rate:N0} events/s for {settings.Seconds} s ({latency.Count:N0} events):
              p50 {latency.P50.TotalMilliseconds:F1} ms   p99 {latency.P99.TotalMilliseconds:F1} ms   p99.9 {latency.P999.TotalMilliseconds:F1} ms   max {latency.Max.TotalMilliseconds:F1} ms   (goals: p50 <= 3 ms, p99 <= 25 ms)
              CPU seconds per 100,000 events meanwhile: {busy}
            CPU seconds per 100,000 events at a steady {SteadyRate:N0} events/s with one member, producing and consuming:
              {steady}   (goal: broker + postgres <= 5 s)
              PostgreSQL per 100,000 events: {steadyDatabase}
            """));
    }
}
