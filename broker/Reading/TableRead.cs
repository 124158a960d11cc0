using System.Runtime.CompilerServices;
using EventStream.Broker.Consuming;
using Npgsql;

namespace EventStream.Broker.Reading;

/// <summary>
/// The events of a topic stored before a read began, in event id order: one cursor over the
/// (topic_id, event_id) index (sql/010), a range scan fetched a page at a time, under one snapshot.
/// </summary>
internal static class TableRead
{
    private const int PageSize = 2_000;

    public static async IAsyncEnumerable<List<StreamedEvent>> ReadAsync(
        NpgsqlDataSource database, ReadPlan plan, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var shards = plan.TableShards;
        await using (var declare = new NpgsqlCommand(
            $"DECLARE read_events NO SCROLL CURSOR FOR SELECT {StreamedEvent.Columns} FROM eventstream.events " +
            "WHERE topic_id = $1 AND ingest_time >= $2 AND event_id > $3" + (shards is null ? "" : " AND shard = ANY($4)") +
            " ORDER BY event_id", connection, transaction))
        {
            declare.Parameters.Add(new NpgsqlParameter { Value = plan.Topic.Id });
            declare.Parameters.Add(new NpgsqlParameter { Value = plan.TableFrom });
            declare.Parameters.Add(new NpgsqlParameter { Value = plan.TableAfterId });
            if (shards is not null)
            {
                declare.Parameters.Add(new NpgsqlParameter { Value = shards });
            }
            await declare.ExecuteNonQueryAsync(cancellationToken);
        }
        while (true)
        {
            var page = new List<StreamedEvent>(PageSize);
            await using (var fetch = new NpgsqlCommand($"FETCH {PageSize} FROM read_events", connection, transaction))
            {
                await using var reader = await fetch.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(StreamedEvent.FromRow(reader));
                }
            }
            if (page.Count > 0)
            {
                yield return page;
            }
            if (page.Count < PageSize)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The events of the notices' ranges, in the notices' order: each range is one transaction's, in one
    /// partition (its ingest time), found by the (topic_id, event_id) index. One round trip for all.
    /// </summary>
    public static async Task<List<StreamedEvent>> FetchAsync(NpgsqlDataSource database, IReadOnlyList<CommitNotice> notices, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var notice in notices)
        {
            var command = new NpgsqlBatchCommand(
                $"SELECT {StreamedEvent.Columns} FROM eventstream.events WHERE topic_id = $1 AND ingest_time = $2 AND event_id BETWEEN $3 AND $4 ORDER BY event_id");
            command.Parameters.Add(new NpgsqlParameter { Value = notice.TopicId });
            command.Parameters.Add(new NpgsqlParameter { Value = notice.IngestTime });
            command.Parameters.Add(new NpgsqlParameter { Value = notice.FirstEventId });
            command.Parameters.Add(new NpgsqlParameter { Value = notice.LastEventId });
            batch.BatchCommands.Add(command);
        }
        var events = new List<StreamedEvent>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(StreamedEvent.FromRow(reader));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
        return events;
    }
}
