using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace EventStream.Benchmarks;

/// <summary>
/// The ceiling: raw Npgsql binary COPY of the same rows into the same table, one connection,
/// large transactions, no gRPC and no broker.
/// </summary>
internal static class CopyBaseline
{
    private const int RowsPerTransaction = 10_000;

    public static async Task<double> MeasureAsync(NpgsqlDataSource database, int topicId, int events, int payloadBytes)
    {
        var key = new byte[16];
        var payload = new byte[payloadBytes];
        Random.Shared.NextBytes(payload);
        var firstId = 1_000_000_000_000L + Random.Shared.NextInt64(1_000_000_000L) * 1000;
        await using var connection = await database.OpenConnectionAsync();
        var watch = Stopwatch.StartNew();
        for (var written = 0; written < events; written += RowsPerTransaction)
        {
            var rows = Math.Min(RowsPerTransaction, events - written);
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY eventstream.events (topic_id, shard, event_id, ingest_time, producer_time, key, payload, headers, content_type) FROM STDIN (FORMAT BINARY)"))
            {
                var now = DateTime.UtcNow;
                for (var i = 0; i < rows; i++)
                {
                    BitConverter.TryWriteBytes(key, written + i);
                    copy.StartRow();
                    copy.Write(topicId, NpgsqlDbType.Integer);
                    copy.Write((written + i) % 32, NpgsqlDbType.Integer);
                    copy.Write(firstId + written + i, NpgsqlDbType.Bigint);
                    copy.Write(now, NpgsqlDbType.TimestampTz);
                    copy.WriteNull();
                    copy.Write(key, NpgsqlDbType.Bytea);
                    copy.Write(payload, NpgsqlDbType.Bytea);
                    copy.WriteNull();
                    copy.WriteNull();
                }
                await copy.CompleteAsync();
            }
            await transaction.CommitAsync();
        }
        return events / watch.Elapsed.TotalSeconds;
    }
}
