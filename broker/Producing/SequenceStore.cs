using Npgsql;

namespace EventStream.Broker.Producing;

/// <summary>Reads and writes <c>eventstream.producer_sequences</c> inside a produce transaction.</summary>
internal static class SequenceStore
{
    /// <summary>
    /// Locks and loads the state of every producer and topic in the batches. Rows are created
    /// first (next_sequence -1: new), so two brokers serving one producer serialise on the row.
    /// </summary>
    public static async Task<Dictionary<(string Producer, int Topic), ProducerSequences>> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<PendingBatch> batches, CancellationToken cancellationToken)
    {
        var states = new Dictionary<(string, int), ProducerSequences>();
        var keys = batches.Where(b => b.ProducerId is not null)
            .Select(b => (Producer: b.ProducerId!, Topic: b.Topic.Id))
            .Distinct()
            .OrderBy(k => k.Producer, StringComparer.Ordinal).ThenBy(k => k.Topic) // one lock order for every broker
            .ToArray();
        if (keys.Length == 0)
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

    public static async Task SaveAsync(
        NpgsqlConnection connection, Dictionary<(string Producer, int Topic), ProducerSequences> states, CancellationToken cancellationToken)
    {
        var changed = states.Where(s => s.Value.Changed).ToArray();
        if (changed.Length == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(
            "UPDATE eventstream.producer_sequences AS s SET next_sequence = u.n, recent = u.r::jsonb, updated_at = now() " +
            "FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[]) AS u(p, t, n, r) " +
            "WHERE s.producer_id = u.p AND s.topic_id = u.t", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Key.Producer).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Key.Topic).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.NextSequence).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = changed.Select(s => s.Value.RecentJson()).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
