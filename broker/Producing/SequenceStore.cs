using EventStream.Broker.Reading;
using Npgsql;

namespace EventStream.Broker.Producing;

/// <summary>Reads and writes <c>eventstream.producer_sequences</c> inside a produce transaction, and commits it.</summary>
internal static class SequenceStore
{
    /// <summary>The producers and topics of the idempotent batches, in one lock order for every broker.</summary>
    public static (string Producer, int Topic)[] KeysOf(IReadOnlyList<PendingBatch> batches) =>
        batches.Where(b => b.ProducerId is not null)
            .Select(b => (Producer: b.ProducerId!, Topic: b.Topic.Id))
            .Distinct()
            .OrderBy(k => k.Producer, StringComparer.Ordinal).ThenBy(k => k.Topic)
            .ToArray();

    /// <summary>
    /// Locks and loads the state of every producer and topic in the batches. Rows are created
    /// first (next_sequence -1: new), so two brokers serving one producer serialise on the row.
    /// </summary>
    public static async Task<Dictionary<(string Producer, int Topic), ProducerSequences>> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<(string Producer, int Topic)> keys, CancellationToken cancellationToken)
    {
        var states = new Dictionary<(string, int), ProducerSequences>();
        if (keys.Count == 0)
        {
            return states;
        }
        var producers = keys.Select(k => k.Producer).ToArray();
        var topics = keys.Select(k => k.Topic).ToArray();

        await using var batch = new NpgsqlBatch(connection);
        var insert = new NpgsqlBatchCommand(
            "INSERT INTO eventstream.producer_sequences (producer_id, topic_id, next_sequence) " +
            "SELECT p, t, -1 FROM unnest($1::text[], $2::int[]) AS u(p, t) ON CONFLICT DO NOTHING");
        insert.Parameters.Add(new NpgsqlParameter { Value = producers });
        insert.Parameters.Add(new NpgsqlParameter { Value = topics });
        var select = new NpgsqlBatchCommand(
            "SELECT producer_id, topic_id, next_sequence, recent::text FROM eventstream.producer_sequences " +
            "WHERE (producer_id, topic_id) IN (SELECT p, t FROM unnest($1::text[], $2::int[]) AS u(p, t)) " +
            "ORDER BY producer_id COLLATE \"C\", topic_id FOR UPDATE");
        select.Parameters.Add(new NpgsqlParameter { Value = producers });
        select.Parameters.Add(new NpgsqlParameter { Value = topics });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(select);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var next = reader.GetInt64(2);
            states[(reader.GetString(0), reader.GetInt32(1))] = next < 0 ? ProducerSequences.New() : ProducerSequences.FromStored(next, reader.GetString(3));
        }
        return states;
    }

    /// <summary>
    /// Records the changed states, sends the transaction's commit notices (delivered by PostgreSQL
    /// only if it commits) and commits, in one round trip. Throws PostgresException with
    /// SQLSTATE 40001 when a row is no longer at the state the batches were checked against.
    /// </summary>
    public static async Task SaveAndCommitAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Dictionary<(string Producer, int Topic), ProducerSequences> states,
        string[] notices, CancellationToken cancellationToken)
    {
        var changed = states.Where(s => s.Value.Changed).ToArray();
        if (changed.Length == 0 && notices.Length == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return;
        }
        await using var batch = new NpgsqlBatch(connection);
        if (changed.Length > 0)
        {
            var advance = new NpgsqlBatchCommand("SELECT eventstream.advance_producer_sequences($1, $2, $3, $4, $5, $6)");
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Key.Producer).ToArray() });
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Key.Topic).ToArray() });
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.StoredNextSequence).ToArray() });
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.StoredRecentJson).ToArray() });
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.NextSequence).ToArray() });
            advance.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.RecentJson()).ToArray() });
            batch.BatchCommands.Add(advance);
        }
        if (notices.Length > 0)
        {
            // unnest keeps the array's order, and notifications of one transaction arrive in the order sent.
            var notify = new NpgsqlBatchCommand(
                $"SELECT pg_notify('{CommitNoticeText.Channel}', p) FROM unnest($1::text[]) WITH ORDINALITY AS n(p, i) ORDER BY i");
            notify.Parameters.Add(new NpgsqlParameter { Value = notices });
            batch.BatchCommands.Add(notify);
        }
        // COMMIT rides along; when a statement before it fails the server skips it and the transaction rolls back.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
