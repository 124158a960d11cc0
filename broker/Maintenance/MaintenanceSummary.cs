using System.Globalization;
using System.Text.Json;

namespace EventStream.Broker.Maintenance;

/// <summary>What one <c>eventstream.run_maintenance()</c> call did, read from its jsonb result.</summary>
/// <param name="Skipped">Another run held the maintenance lock; nothing was done.</param>
/// <param name="Complete">False when work is left for the next call (time budget spent, or a lock was busy).</param>
/// <param name="PartitionsDropped">Names of the partitions dropped, oldest first.</param>
/// <param name="PartitionsSwept">Partitions scanned completely for expired rows.</param>
/// <param name="RowsDeleted">Events deleted by batched DELETEs (not counting dropped partitions).</param>
/// <param name="RowsDeletedByTopic">The same per topic id.</param>
/// <param name="ProducersExpired">Idle producer states forgotten.</param>
/// <param name="PartitionsCreated">Partitions created ahead of time.</param>
/// <param name="Deferred">Steps that met a busy lock and wait for the next call.</param>
/// <param name="Duration">Time spent in the database.</param>
internal sealed record MaintenanceSummary(
    bool Skipped,
    bool Complete,
    IReadOnlyList<string> PartitionsDropped,
    int PartitionsSwept,
    long RowsDeleted,
    IReadOnlyDictionary<int, long> RowsDeletedByTopic,
    long ProducersExpired,
    int PartitionsCreated,
    IReadOnlyList<string> Deferred,
    TimeSpan Duration)
{
    public static MaintenanceSummary Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.GetProperty("skipped").GetBoolean())
        {
            return new MaintenanceSummary(true, true, [], 0, 0, new Dictionary<int, long>(), 0, 0, [], TimeSpan.Zero);
        }

        return new MaintenanceSummary(
            Skipped: false,
            Complete: root.GetProperty("complete").GetBoolean(),
            PartitionsDropped: Strings(root.GetProperty("partitions_dropped")),
            PartitionsSwept: root.GetProperty("partitions_swept").GetInt32(),
            RowsDeleted: root.GetProperty("rows_deleted").GetInt64(),
            RowsDeletedByTopic: root.GetProperty("rows_deleted_by_topic").EnumerateObject()
                .ToDictionary(p => int.Parse(p.Name, CultureInfo.InvariantCulture), p => p.Value.GetInt64()),
            ProducersExpired: root.GetProperty("producers_expired").GetInt64(),
            PartitionsCreated: root.GetProperty("partitions_created").GetInt32(),
            Deferred: Strings(root.GetProperty("deferred")),
            Duration: TimeSpan.FromMilliseconds(root.GetProperty("duration_ms").GetDouble()));
    }

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
