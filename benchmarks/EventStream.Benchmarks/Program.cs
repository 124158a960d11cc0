using System.Globalization;
using EventStream.Benchmarks;

// produce: raw COPY baseline vs SDK -> broker -> PostgreSQL, interleaved rounds on one machine,
//          then ack latency at a fixed rate. Options: --events N --rounds N --rate N --seconds N
//          --api-keys 1 (authentication on: every call presents an API key)
// consume: a group of 1 and of 4 members against the producers' rate, then ack -> delivery
//          latency at --rate (default 20,000) events/s. With --replay N: only a new group reading
//          N stored events from earliest. With --events 0: only the latency and the steady load.
if (args.FirstOrDefault() == "consume")
{
    await ConsumeCommand.RunAsync(BenchmarkSettings.Parse(args[1..]));
    return;
}
var settings = BenchmarkSettings.Parse(args.FirstOrDefault() == "produce" ? args[1..] : args);
Console.WriteLine($"Starting a broker on a fresh embedded PostgreSQL ({Environment.ProcessorCount} cores){(settings.ApiKeys ? ", API keys on" : "")}...");
await using var broker = await BenchmarkBroker.StartAsync(apiKeys: settings.ApiKeys);
var topic = await ProduceBenchmark.CreateTopicAsync(broker, "bench-" + Guid.NewGuid().ToString("N")[..8]);

var baseline = new List<double>();
var sdk = new List<double>();
await ProduceBenchmark.WarmUpAsync(broker, topic);
for (var round = 1; round <= settings.Rounds; round++)
{
    var cpu = CpuMeter.Start();
    baseline.Add(await CopyBaseline.MeasureAsync(broker.Database, topic.Id, settings.Events, settings.PayloadBytes));
    var baselineCpu = cpu.PerEvent(settings.Events);
    cpu = CpuMeter.Start();
    sdk.Add(await ProduceBenchmark.MeasureThroughputAsync(broker, topic.Name, settings.Events, settings.PayloadBytes));
    var sdkCpu = cpu.PerEvent(settings.Events);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round}: baseline {baseline[^1],10:N0} events/s   sdk {sdk[^1],10:N0} events/s   ratio {sdk[^1] / baseline[^1]:F2}"));
    Console.WriteLine($"           CPU µs/event  baseline: {baselineCpu}   sdk: {sdkCpu}");
}

var latencyCpu = CpuMeter.Start();
var latencyDatabase = await DatabaseMeter.StartAsync(broker.Database);
var latency = await ProduceBenchmark.MeasureLatencyAsync(broker, topic.Name, settings.Rate, settings.Seconds, settings.PayloadBytes);
var steadyCpu = latencyCpu.SecondsPer(settings.Rate * settings.Seconds, 100_000);
var steadyDatabase = await latencyDatabase.PerAsync(settings.Rate * settings.Seconds, 100_000);
var baselineMedian = Statistics.Median(baseline);
var sdkMedian = Statistics.Median(sdk);
// Each round's two runs are back to back, so their ratio cancels most of the machine's drift.
var ratioMedian = Statistics.Median(baseline.Zip(sdk, (b, s) => s / b).ToList());
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    produce throughput, {settings.PayloadBytes}-byte events, {settings.Events:N0} per run, median of {settings.Rounds} rounds:
      baseline  raw Npgsql binary COPY, same table : {baselineMedian,10:N0} events/s
      sdk       SDK -> broker -> PostgreSQL        : {sdkMedian,10:N0} events/s   (batch API, {ProduceBenchmark.EventsPerCall} events a call, {ProduceBenchmark.CallsOutstanding} calls outstanding)
      ratio     sdk / baseline, median of rounds   : {ratioMedian,10:F2}   (goal >= 0.60)
    ack latency at {settings.Rate:N0} events/s for {settings.Seconds} s ({latency.Count:N0} events):
      p50 {latency.P50.TotalMilliseconds:F1} ms   p99 {latency.P99.TotalMilliseconds:F1} ms   max {latency.Max.TotalMilliseconds:F1} ms
      CPU seconds per 100,000 events: {steadyCpu}
      PostgreSQL per 100,000 events: {steadyDatabase}
    """));

internal sealed record BenchmarkSettings(int Events, int Rounds, int Rate, int Seconds, int PayloadBytes, bool EventsGiven = false, bool RateGiven = false, int Replay = 0, bool ApiKeys = false)
{
    public static BenchmarkSettings Parse(string[] args)
    {
        var settings = new BenchmarkSettings(Events: 500_000, Rounds: 3, Rate: 5_000, Seconds: 10, PayloadBytes: 200);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            settings = args[i] switch
            {
                "--events" => settings with { Events = value, EventsGiven = true },
                "--rounds" => settings with { Rounds = value },
                "--rate" => settings with { Rate = value, RateGiven = true },
                "--seconds" => settings with { Seconds = value },
                "--payload-bytes" => settings with { PayloadBytes = value },
                "--replay" => settings with { Replay = value },
                "--api-keys" => settings with { ApiKeys = value != 0 },
                _ => throw new ArgumentException($"Unknown option {args[i]}; use --events, --rounds, --rate, --seconds, --payload-bytes, --replay, --api-keys."),
            };
        }
        return settings;
    }
}
