using System.Runtime.CompilerServices;
using Npgsql;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Reads the events a group starts with from the table, in event id order across all shards and
/// topics: under the snapshot its slot exported, so they end exactly where the stream begins; or,
/// after a broker restart lost that snapshot, up to the time the slot was created (then some may
/// repeat). Each topic is a cursor over the (topic_id, event_id) index, fetched in pages and merged
/// by event id, so the read is linear in the backlog and every shard advances at once.
/// A shard's events come after its committed position; a shard committed at a streamed position
/// (whose order against table rows is unknown) gets every event from its resume time instead.
/// </summary>
internal static class BackfillReader
{
    private const int PageSize = 5000;

    public static async IAsyncEnumerable<IReadOnlyList<StreamedEvent>> ReadAsync(
        NpgsqlDataSource database,
        string? snapshotName,
        int[] topicIds,
        DateTime from,
        DateTime until,
        IReadOnlyDictionary<int, EventPosition> committed,
        IReadOnlyDictionary<int, DateTime> resumeTimes,
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
        var cursors = new List<TopicCursor>();
        foreach (var topicId in topicIds)
        {
            var cursor = new TopicCursor(connection, transaction, $"backfill_{cursors.Count}");
            await cursor.OpenAsync(topicId, from, until, cancellationToken);
            cursors.Add(cursor);
        }

        var batch = new List<StreamedEvent>(PageSize);
        while (true)
        {
            // The topic whose next event has the lowest id goes next: one topic needs no merging.
            TopicCursor? next = null;
            foreach (var cursor in cursors)
            {
                if (await cursor.PeekAsync(cancellationToken) is { } head && (next is null || head.EventId < next.Head!.EventId))
                {
                    next = cursor;
                }
            }
            if (next is null)
            {
                break;
            }
            var e = next.Take();
            if (resumeTimes.TryGetValue(e.Shard, out var since)
                ? e.IngestTime >= since
                : !committed.TryGetValue(e.Shard, out var done) || e.Position > done)
            {
                batch.Add(e);
            }
            if (batch.Count == PageSize)
            {
                yield return batch;
                batch = new List<StreamedEvent>(PageSize);
            }
        }
        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>One topic's events in event id order, a page at a time.</summary>
    private sealed class TopicCursor(NpgsqlConnection connection, NpgsqlTransaction transaction, string name)
    {
        private readonly Queue<StreamedEvent> _page = new();
        private bool _exhausted;

        public StreamedEvent? Head => _page.TryPeek(out var head) ? head : null;

        public async Task OpenAsync(int topicId, DateTime from, DateTime until, CancellationToken cancellationToken)
        {
            await using var declare = new NpgsqlCommand(
                $"DECLARE {name} NO SCROLL CURSOR FOR " +
                $"SELECT {StreamedEvent.Columns} " +
                "FROM eventstream.events WHERE topic_id = $1 AND ingest_time >= $2 AND ingest_time <= $3 ORDER BY event_id",
                connection, transaction);
            declare.Parameters.Add(new NpgsqlParameter { Value = topicId });
            declare.Parameters.Add(new NpgsqlParameter { Value = from });
            declare.Parameters.Add(new NpgsqlParameter { Value = until });
            await declare.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask<StreamedEvent?> PeekAsync(CancellationToken cancellationToken)
        {
            if (_page.Count == 0 && !_exhausted)
            {
                await FetchAsync(cancellationToken);
            }
            return Head;
        }

        public StreamedEvent Take() => _page.Dequeue();

        private async Task FetchAsync(CancellationToken cancellationToken)
        {
            await using var fetch = new NpgsqlCommand($"FETCH {PageSize} FROM {name}", connection, transaction);
            await using var reader = await fetch.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                _page.Enqueue(StreamedEvent.FromRow(reader));
            }
            _exhausted = _page.Count < PageSize;
        }
    }
}
