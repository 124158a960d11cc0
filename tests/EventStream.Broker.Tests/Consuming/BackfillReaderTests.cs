using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>Reading a group's start from the table: every topic merged in event id order, past what was committed.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BackfillReaderTests(PostgresFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await fixture.CreateDatabaseAsync(TestTimeout.Token());
        _database = NpgsqlDataSource.Create(connectionString);
        await new MigrationRunner(_database, new RecordingLogger()).ApplyAsync(TestTimeout.Token());
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Topics_are_merged_by_event_id_across_pages_and_shards()
    {
        var orders = await CreateTopicAsync("orders");
        var payments = await CreateTopicAsync("payments");
        // Interleaved ids, more than a page (5,000) per topic, over four shards.
        await InsertAsync(orders, Enumerable.Range(0, 6000).Select(i => 2L * i));
        await InsertAsync(payments, Enumerable.Range(0, 6000).Select(i => 2L * i + 1));

        var read = await ReadAsync([orders, payments], new Dictionary<int, EventPosition>());

        Assert.Equal(Enumerable.Range(0, 12_000).Select(i => (long)i), read.Select(e => e.EventId));
        Assert.Equal(read.Select(e => (int)(e.EventId / 2 % 4)), read.Select(e => e.Shard));
        Assert.All(read, e => Assert.Equal(e.EventId % 2 == 0 ? orders : payments, e.TopicId));
    }

    [Fact]
    public async Task Events_a_shard_committed_are_skipped()
    {
        var orders = await CreateTopicAsync("orders");
        await InsertAsync(orders, Enumerable.Range(0, 40).Select(i => (long)i));

        // Shard 1 committed up to event 19: its events 2, 3, 10, 11, 18 and 19 are done.
        var read = await ReadAsync([orders], new Dictionary<int, EventPosition> { [1] = new(0, 0, 19) });

        Assert.Equal(Enumerable.Range(0, 40).Where(i => i / 2 % 4 != 1 || i > 19).Select(i => (long)i), read.Select(e => e.EventId));
    }

    private async Task<List<StreamedEvent>> ReadAsync(int[] topics, Dictionary<int, EventPosition> committed)
    {
        var read = new List<StreamedEvent>();
        await foreach (var batch in BackfillReader.ReadAsync(_database, null, topics, DateTime.MinValue.ToUniversalTime(), DateTime.MaxValue.ToUniversalTime(), committed, new Dictionary<int, DateTime>(), TestTimeout.Token()))
        {
            read.AddRange(batch);
        }
        return read;
    }

    private async Task<int> CreateTopicAsync(string name)
    {
        await using var command = _database.CreateCommand("INSERT INTO eventstream.topics (name, retention) VALUES ($1, '1 day') RETURNING topic_id");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private async Task InsertAsync(int topic, IEnumerable<long> eventIds)
    {
        // Shards follow the id within the topic: (id / 2) mod 4.
        await using var command = _database.CreateCommand(
            "INSERT INTO eventstream.events (topic_id, shard, event_id, ingest_time, payload) SELECT $1, (id / 2) % 4, id, now(), '\\x01' FROM unnest($2::bigint[]) AS id");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        command.Parameters.Add(new NpgsqlParameter { Value = eventIds.ToArray() });
        await command.ExecuteNonQueryAsync();
    }
}
