// Owns the health gauge: whether the broker answers SERVING.
using EventStream.Broker.Health;

namespace EventStream.Broker.Telemetry;

/// <summary>Reports <c>eventstream.health.serving</c>: 1 while health answers SERVING, else 0.</summary>
internal sealed class HealthGauge
{
    public HealthGauge(BrokerMetrics metrics, DatabaseHealthMonitor health) =>
        metrics.Meter.CreateObservableGauge("eventstream.health.serving", () => health.IsServing ? 1 : 0, "{state}",
            "1 while the broker's health service answers SERVING (the database is reachable and migrated).");
}
