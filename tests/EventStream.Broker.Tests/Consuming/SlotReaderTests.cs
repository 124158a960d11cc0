using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>Slot creation, snapshot backfill and pgoutput decoding on a real database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SlotReaderTests(PostgresFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private string _connectionString = null!;
    private readonly string _slot = SlotNames.ForGroup("g-" + Guid.NewGuid().ToString("N"));
    private int _topic;

    // Whole microseconds, as PostgreSQL stores them; inside the partitions that exist.
    private static readonly DateTime IngestTime = new(DateTime.UtcNow.Ticks / 10 * 10, DateTimeKind.Utc);

    public async Task InitializeAsync()
    {
        _connectionString = await fixture.CreateDatabaseAsync(TestTimeout.Token());
        _database = NpgsqlDataSource.Create(_connectionString);
        await new MigrationRunner(_database, new RecordingLogger()).ApplyAsync(TestTimeout.Token());
        await using var command = _database.CreateCommand("INSERT INTO eventstream.topics (name, retention) VALUES ('orders', '1 day') RETURNING topic_id");
        _topic = (int)(await command.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        await GroupSlot.DropAsync(_database, _slot, CancellationToken.None);
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Backfill_under_the_exported_snapshot_ends_exactly_where_the_stream_begins()
    {
        await InsertAsync(1, 2, 3);
        var ct = TestTimeout.Token();
        List<StreamedEvent> backfill = [];
        await using (var created = await GroupSlot.CreateAsync(_connectionString, _slot, ct))
        {
            // Committed after the slot's consistent point, so only the stream may carry it.
            await InsertAsync(4);
            await foreach (var e in BackfillReader.ReadAsync(_database, created.SnapshotName, [_topic], DateTime.MinValue.ToUniversalTime(), DateTime.MaxValue.ToUniversalTime(), new Dictionary<int, EventPosition>(), new Dictionary<int, DateTime>(), ct))
            {
                backfill.AddRange(e);
            }
        }
        await InsertAsync(5, 6);

        Assert.Equal([1L, 2, 3], backfill.Select(e => e.EventId));
        Assert.All(backfill, e => Assert.True(e.Position.IsBackfill));
        var streamed = await ReadTransactionsAsync(2);
        Assert.Equal([4L, 5, 6], streamed.SelectMany(t => t.Events).Select(e => e.EventId));
    }

    [Fact]
    public async Task Decodes_every_column_and_orders_positions_by_commit()
    {
        var ct = TestTimeout.Token();
        await (await GroupSlot.CreateAsync(_connectionString, _slot, ct)).DisposeAsync();
        await using (var command = _database.CreateCommand(
            "INSERT INTO eventstream.events (topic_id, shard, event_id, ingest_time, producer_time, key, payload, headers, content_type) " +
            "VALUES ($1, 7, 42, $2, $3, '\\x6b6579', '\\x7061796c6f6164', '{\"a\": \"b\"}', 'text/plain'), " +
            "($1, 7, 43, now(), NULL, NULL, '\\x', NULL, NULL)"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = _topic });
            command.Parameters.Add(new NpgsqlParameter { Value = IngestTime });
            command.Parameters.Add(new NpgsqlParameter { Value = IngestTime.AddSeconds(-5) });
            await command.ExecuteNonQueryAsync(ct);
        }
        await InsertAsync(44);

        var transactions = await ReadTransactionsAsync(2);
        var first = transactions[0].Events[0];
        Assert.Equal((_topic, 7, 42L), (first.TopicId, first.Shard, first.EventId));
        Assert.Equal(IngestTime, first.IngestTime);
        Assert.Equal(IngestTime.AddSeconds(-5), first.ProducerTime);
        Assert.Equal("key"u8.ToArray(), first.Key);
        Assert.Equal("payload"u8.ToArray(), first.Payload);
        Assert.Equal("{\"a\": \"b\"}", first.HeadersJson);
        Assert.Equal("text/plain", first.ContentType);
        var second = transactions[0].Events[1];
        Assert.Null(second.Key);
        Assert.Null(second.ProducerTime);
        Assert.Empty(second.Payload);
        Assert.Equal((0u, 1u), (first.Position.Ordinal, second.Position.Ordinal));
        Assert.True(first.Position < second.Position);
        Assert.True(second.Position < transactions[1].Events[0].Position);
    }

    [Fact]
    public async Task Confirmed_flush_decides_where_the_stream_resumes()
    {
        var ct = TestTimeout.Token();
        await (await GroupSlot.CreateAsync(_connectionString, _slot, ct)).DisposeAsync();
        await InsertAsync(1);
        await InsertAsync(2);
        await InsertAsync(3);
        var all = await ReadTransactionsAsync(3, confirm: t => t[0].EndLsn);

        // Everything up to the end of the first transaction was confirmed: it is not sent again.
        var resumed = await ReadTransactionsAsync(2, confirm: t => t[0].CommitLsn);
        Assert.Equal([2L, 3], resumed.SelectMany(t => t.Events).Select(e => e.EventId));

        // A flush at a transaction's own commit LSN keeps that transaction.
        var again = await ReadTransactionsAsync(2);
        Assert.Equal([2L, 3], again.SelectMany(t => t.Events).Select(e => e.EventId));
        Assert.Equal(all[1].CommitLsn, again[0].CommitLsn);
    }

    private async Task<List<DecodedTransaction>> ReadTransactionsAsync(int count, Func<List<DecodedTransaction>, ulong>? confirm = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var transactions = new List<DecodedTransaction>();
        ulong? confirmed = null;
        await using (var reader = await SlotReader.OpenAsync(_connectionString, _slot, cts.Token))
        {
            await foreach (var transaction in reader.ReadAsync(cts.Token))
            {
                transactions.Add(transaction);
                if (transactions.Count == count)
                {
                    if (confirm is not null)
                    {
                        confirmed = confirm(transactions);
                        await reader.ConfirmFlushAsync(confirmed.Value, cts.Token);
                    }
                    break;
                }
            }
        }
        // The server applies the confirmation when it reads it, perhaps after the next session
        // asked for the slot: wait until the slot shows it, and its stream is released.
        while (confirmed is { } lsn && !await SlotShowsAsync(lsn))
        {
            await Task.Delay(50, cts.Token);
        }
        return transactions;
    }

    private async Task<bool> SlotShowsAsync(ulong confirmed)
    {
        await using var command = _database.CreateCommand(
            "SELECT confirmed_flush_lsn >= $1::text::pg_lsn AND NOT active FROM pg_replication_slots WHERE slot_name = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = new NpgsqlTypes.NpgsqlLogSequenceNumber(confirmed).ToString() });
        command.Parameters.Add(new NpgsqlParameter { Value = _slot });
        return await command.ExecuteScalarAsync() is true;
    }

    private async Task InsertAsync(params long[] eventIds)
    {
        await using var command = _database.CreateCommand(
            "INSERT INTO eventstream.events (topic_id, shard, event_id, ingest_time, payload) SELECT $1, 0, id, now(), '\\x01' FROM unnest($2::bigint[]) AS id");
        command.Parameters.Add(new NpgsqlParameter { Value = _topic });
        command.Parameters.Add(new NpgsqlParameter { Value = eventIds });
        await command.ExecuteNonQueryAsync();
    }
}
