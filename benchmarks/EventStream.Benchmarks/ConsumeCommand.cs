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
        await ConsumeBenchmark.MeasureThroughputAsync(broker, 1, 20_000, settings.PayloadBytes); // warm-up

        var results = new List<ConsumeBenchmark.Throughput>();
        foreach (var members in new[] { 1, 4 })
        {
            var result = await ConsumeBenchmark.MeasureThroughputAsync(broker, members, events, settings.PayloadBytes);
            results.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {members} member(s): produced {result.ProduceRate,9:N0} events/s, consumed {result.ConsumeRate,9:N0} events/s, last event {result.Trailing.TotalMilliseconds:N0} ms after the last ack"));
        }
        var latency = await ConsumeBenchmark.MeasureLatencyAsync(broker, rate, settings.Seconds, settings.PayloadBytes);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"consume throughput, {settings.PayloadBytes}-byte events, {events:N0} produced while the group consumes:"));
        foreach (var result in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.Members} member(s): consume / produce rate = {result.ConsumeRate / result.ProduceRate:F2}   (keeping up: >= 0.95)"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            end-to-end latency, producer ack -> consumer delivery, at {rate:N0} events/s for {settings.Seconds} s ({latency.Count:N0} events):
              p50 {latency.P50.TotalMilliseconds:F1} ms   p99 {latency.P99.TotalMilliseconds:F1} ms   max {latency.Max.TotalMilliseconds:F1} ms   (goals: p50 <= 10 ms, p99 <= 100 ms)
            """));
    }
}
