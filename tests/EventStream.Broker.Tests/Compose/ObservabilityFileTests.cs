// Owns the static checks of compose/'s Prometheus, alert and Grafana files.
using System.Text.Json;
using System.Text.RegularExpressions;
using EventStream.Testing;
using YamlDotNet.Serialization;

namespace EventStream.Broker.Tests.Compose;

/// <summary>
/// compose/observability without a container engine: Prometheus scrapes every broker where it
/// serves /metrics, the alert rules and the Grafana dashboard query metrics the broker publishes
/// (the names listed in docs/metrics.md), and the mounted files exist.
/// </summary>
public sealed partial class ObservabilityFileTests
{
    private static readonly string ComposeDirectory = RepositoryPaths.Combine("compose");

    private readonly ComposeFile _compose = ComposeFile.Load(Path.Combine(ComposeDirectory, "docker-compose.yml"));

    [Fact]
    public void Prometheus_scrapes_every_broker_on_its_metrics_port()
    {
        var brokers = _compose.Services.Values.Where(s => s.Environment.ContainsKey("ConnectionStrings__EventStream")).ToList();
        Assert.Equal(2, brokers.Count);
        var config = Yaml("prometheus.yml");
        var job = Assert.Single(List(config["scrape_configs"]));
        var targets = List(Map(Assert.Single(List(Map(job)["static_configs"])))["targets"]).Cast<string>().ToList();
        foreach (var broker in brokers)
        {
            var scrape = new Uri(broker.Environment["EventStream__Telemetry__PrometheusUrl"]);
            Assert.Equal("0.0.0.0", scrape.Host);
            Assert.NotEqual(new Uri(broker.Environment["Urls"]).Port, scrape.Port);
            Assert.Contains($"{broker.Name}:{scrape.Port}", targets);
        }
        Assert.Equal(["/etc/prometheus/alerts.yml"], List(config["rule_files"]).Cast<string>());
    }

    [Fact]
    public void Prometheus_and_grafana_mount_files_that_exist()
    {
        foreach (var name in new[] { "prometheus", "grafana" })
        {
            var service = _compose.Service(name);
            Assert.NotNull(service.Image);
            Assert.NotEmpty(service.Volumes);
            foreach (var volume in service.Volumes)
            {
                var source = Path.GetFullPath(Path.Combine(ComposeDirectory, volume.Split(':')[0]));
                Assert.True(File.Exists(source) || Directory.Exists(source), $"{name} mounts {source}, which does not exist.");
            }
        }
        Assert.Equal("service_started", _compose.Service("grafana").DependsOn["prometheus"]);
        var datasource = Map(Assert.Single(List(Yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"])));
        Assert.Equal("http://prometheus:9090", datasource["url"]);
        var provider = Map(Assert.Single(List(Yaml("grafana/provisioning/dashboards/eventstream.yml")["providers"])));
        Assert.Equal("/var/lib/grafana/dashboards", Map(provider["options"])["path"]);
    }

    [Fact]
    public void Alert_rules_watch_slot_wal_and_group_lag_with_known_metrics()
    {
        var rules = List(Map(Assert.Single(List(Yaml("alerts.yml")["groups"])))["rules"]).Select(Map).ToList();
        var byName = rules.ToDictionary(r => (string)r["alert"]!, r => (string)r["expr"]!);
        Assert.Contains("eventstream_slot_wal_retained_bytes", byName["EventStreamSlotWalRetained"]);
        Assert.Contains("eventstream_group_lag", byName["EventStreamGroupLag"]);
        foreach (var expr in byName.Values)
        {
            AssertKnownMetrics(expr);
        }
    }

    [Fact]
    public void Dashboard_shows_rates_lag_wal_and_latency_percentiles_of_known_metrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(ComposeDirectory, "observability", "grafana", "dashboards", "eventstream.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        var expressions = panels.SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.All(panels, p => Assert.Equal("prometheus", p.GetProperty("datasource").GetProperty("uid").GetString()));
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var wanted in new[]
        {
            "messaging_client_sent_messages_total", "messaging_client_consumed_messages_total", "eventstream_group_lag",
            "eventstream_slot_wal_retained_bytes", "eventstream_produce_ack_duration_seconds_bucket", "eventstream_delivery_duration_seconds_bucket",
        })
        {
            Assert.Contains(expressions, e => MetricNames(e).Contains(wanted));
        }
        Assert.Contains(expressions, e => e.StartsWith("histogram_quantile(0.99", StringComparison.Ordinal));
        foreach (var expr in expressions)
        {
            AssertKnownMetrics(expr);
        }
    }

    /// <summary>Every metric an expression reads is one docs/metrics.md lists (histograms with their series suffixes).</summary>
    private static void AssertKnownMetrics(string expr)
    {
        var documented = DocumentedNames().Matches(File.ReadAllText(RepositoryPaths.Combine("docs", "metrics.md")))
            .Select(m => m.Groups["name"].Value).ToHashSet();
        foreach (var name in MetricNames(expr))
        {
            var series = Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(documented.Contains(name) || documented.Contains(series), $"{expr} reads {name}, which docs/metrics.md does not list.");
        }
    }

    private static HashSet<string> MetricNames(string expr) =>
        PromQlName().Matches(expr).Select(m => m.Value).Where(n => n.StartsWith("eventstream_", StringComparison.Ordinal) || n.StartsWith("messaging_client_", StringComparison.Ordinal))
            .Where(n => !n.StartsWith("eventstream_slot_name", StringComparison.Ordinal) && n is not "eventstream_shard" and not "eventstream_node")
            .ToHashSet();

    private static Dictionary<object, object?> Yaml(string file) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(File.ReadAllText(Path.Combine(ComposeDirectory, "observability", file)));

    private static Dictionary<object, object?> Map(object? node) => ComposeFile.AsMap(node);

    private static List<object?> List(object? node) => node as List<object?> ?? throw new InvalidDataException("Expected a list.");

    [GeneratedRegex(@"`(?<name>(eventstream|messaging_client)_[a-z0-9_]+)`")]
    private static partial Regex DocumentedNames();

    [GeneratedRegex(@"[a-z_][a-z0-9_]*")]
    private static partial Regex PromQlName();
}
