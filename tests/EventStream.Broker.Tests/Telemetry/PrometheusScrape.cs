// Owns reading a broker's Prometheus endpoint in tests: fetch /metrics and parse its samples.
using System.Globalization;
using System.Text.RegularExpressions;

namespace EventStream.Broker.Tests.Telemetry;

/// <summary>One sample of the Prometheus text format: a series name, its labels and its value.</summary>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Scrapes a broker's <c>/metrics</c> as Prometheus would (HTTP/1.1 GET, text format).</summary>
internal sealed partial class PrometheusScrape(string metricsUrl) : IDisposable
{
    private readonly HttpClient _http = new();

    public async Task<List<MetricSample>> ReadAsync()
    {
        var text = await _http.GetStringAsync(metricsUrl);
        var samples = new List<MetricSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"Not a Prometheus sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
            samples.Add(new MetricSample(match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    /// <summary>The sum of a series' samples whose labels include all of <paramref name="labels"/>; null when there are none.</summary>
    public static double? Sum(IEnumerable<MetricSample> samples, string name, params (string Name, string Value)[] labels)
    {
        var matching = samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).ToList();
        return matching.Count == 0 ? null : matching.Sum(s => s.Value);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(\\.|[^""\\])*)""")]
    private static partial Regex LabelPair();
}
