using System.Runtime.CompilerServices;
using Npgsql;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Reads the events a new group starts with from the table, by shard and event id: under the
/// snapshot its slot exported, so they end exactly where the stream begins; or, after a broker
/// restart lost that snapshot, up to the time the slot was created (then some may repeat).
/// </summary>
internal static class BackfillReader
{
    private const int PageSize = 1000;

    public static async IAsyncEnumerable<StreamedEvent> ReadAsync(
        NpgsqlDataSource database,
        string? snapshotName,
        int[] topicIds,
        DateTime from,
        DateTime until,
        IReadOnlyDictionary<int, EventPosition> committed,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        if (snapshotName is not null)
        {
            // Must be the transaction's first statement.
            await using var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshotName.Replace("'", "''", StringComparison.Ordinal)}'", connection, transaction);
            await set.ExecuteNonQueryAsync(cancellationToken);
        }
        var (shard, eventId) = (-1, long.MinValue);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT topic_id, shard, event_id, ingest_time, producer_time, key, payload, headers::text, content_type " +
                "FROM eventstream.events WHERE topic_id = ANY($1) AND ingest_time >= $2 AND ingest_time <= $3 " +
                "AND (shard, event_id) > ($4, $5) ORDER BY shard, event_id LIMIT $6", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = topicIds });
            command.Parameters.Add(new NpgsqlParameter { Value = from });
            command.Parameters.Add(new NpgsqlParameter { Value = until });
            command.Parameters.Add(new NpgsqlParameter { Value = shard });
            command.Parameters.Add(new NpgsqlParameter { Value = eventId });
            command.Parameters.Add(new NpgsqlParameter { Value = PageSize });
            var page = new List<StreamedEvent>(PageSize);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(new StreamedEvent(
                        reader.GetInt32(0),
                        reader.GetInt32(1),
                        reader.GetInt64(2),
                        reader.GetDateTime(3),
                        reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                        reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5),
                        reader.GetFieldValue<byte[]>(6),
                        reader.IsDBNull(7) ? null : reader.GetString(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8),
                        new EventPosition(0, 0, reader.GetInt64(2))));
                }
            }
            foreach (var e in page)
            {
                if (!committed.TryGetValue(e.Shard, out var done) || e.Position > done)
                {
                    yield return e;
                }
            }
            if (page.Count < PageSize)
            {
                yield break;
            }
            (shard, eventId) = (page[^1].Shard, page[^1].EventId);
        }
    }
}
