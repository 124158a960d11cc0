namespace EventStream.Benchmarks;

internal static class Statistics
{
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static TimeSpan Percentile(TimeSpan[] sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

internal sealed record LatencySummary(int Count, TimeSpan P50, TimeSpan P99, TimeSpan P999, TimeSpan Max)
{
    public static LatencySummary From(IEnumerable<TimeSpan> samples)
    {
        var sorted = samples.Order().ToArray();
        return new LatencySummary(sorted.Length, Statistics.Percentile(sorted, 50), Statistics.Percentile(sorted, 99),
            Statistics.Percentile(sorted, 99.9), sorted[^1]);
    }
}
