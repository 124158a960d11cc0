// Owns the EventStream:Telemetry settings: metrics on or off, the Prometheus scrape address, tracing, lag collection.
namespace EventStream.Broker.Telemetry;

/// <summary>The broker's telemetry settings (section <c>EventStream:Telemetry</c>).</summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "EventStream:Telemetry";

    /// <summary>
    /// Whether the broker collects metrics at all. Off, its instruments have no listener and cost a
    /// check each; the database lag collector does not run (DescribeGroup still reports lag).
    /// </summary>
    public bool Metrics { get; set; } = true;

    /// <summary>
    /// Where Prometheus scrapes <c>/metrics</c> over HTTP/1.1, e.g. <c>http://0.0.0.0:9464</c>; unset
    /// serves no scrape endpoint. It must be a port of its own: the gRPC port speaks HTTP/2 only.
    /// </summary>
    public string? PrometheusUrl { get; set; }

    /// <summary>
    /// Whether the broker's spans are recorded and exported (to OTLP, when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; without an exporter nothing listens).
    /// </summary>
    public bool Tracing { get; set; } = true;

    /// <summary>How often lag, slots and groups are read from the database for the metrics.</summary>
    public TimeSpan LagInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The scrape address as a URI, or null; throws naming the setting when it is not an http URL.</summary>
    public Uri? PrometheusUri()
    {
        if (string.IsNullOrWhiteSpace(PrometheusUrl))
        {
            return null;
        }
        if (!Uri.TryCreate(PrometheusUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Port <= 0)
        {
            throw new InvalidOperationException($"{SectionName}:PrometheusUrl must be an http:// URL with a port, e.g. http://0.0.0.0:9464.");
        }
        return uri;
    }
}
