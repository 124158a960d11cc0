using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>eventstream.commit_positions (sql/009) on a real database: a member's commits on several shards in one call.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitPositionsSqlTests(PostgresFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private readonly string _group = "g-" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(TestTimeout.Token()));
        await new MigrationRunner(_database, new RecordingLogger()).ApplyAsync(TestTimeout.Token());
        await ExecuteAsync("SELECT eventstream.ensure_group($1, $2)", _group, new[] { "orders" });
        await ExecuteAsync("SELECT * FROM eventstream.obtain_leases($1, 'a', interval '30 seconds')", _group);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Several_shards_commit_in_one_call()
    {
        var results = await CommitAsync("a", (0, 1, "0/100"), (5, 1, "0/200"), (31, 1, "0/300"));

        Assert.Equal(new[] { (0, true), (5, true), (31, true) }, results);
        Assert.Equal(new[] { "0/100", "0/200", "0/300" }, await PositionsAsync(0, 5, 31));
    }

    [Fact]
    public async Task Commit_under_a_stale_epoch_is_rejected_while_the_others_count()
    {
        // a leaves and b takes every shard under a later epoch: commits under epoch 1 are stale.
        await ExecuteAsync("SELECT eventstream.leave_group($1, 'a')", _group);
        await ExecuteAsync("SELECT * FROM eventstream.obtain_leases($1, 'b', interval '30 seconds')", _group);
        var epoch = await ScalarAsync<long>("SELECT epoch FROM eventstream.leases WHERE consumer_group = $1 AND shard_id = 1", _group);
        Assert.True(epoch > 1);

        Assert.Equal(new[] { (0, false), (1, false) }, await CommitAsync("a", (0, 1, "0/100"), (1, epoch, "0/100")));
        Assert.Equal(new[] { (0, false), (1, true) }, await CommitAsync("b", (0, 1, "0/100"), (1, epoch, "0/150")));
        Assert.Equal(new string?[] { null, "0/150" }, await PositionsAsync(0, 1));
    }

    [Fact]
    public async Task Positions_never_move_backwards_within_a_node()
    {
        await CommitAsync("a", (0, 1, "0/200"), (1, 1, "0/200"));
        Assert.Equal(new[] { (0, true), (1, true) }, await CommitAsync("a", (0, 1, "0/100"), (1, 1, "0/300")));
        // A shard named twice in one call: the furthest counts.
        Assert.Equal(new[] { (2, true), (2, true) }, await CommitAsync("a", (2, 1, "0/500"), (2, 1, "0/400")));

        Assert.Equal(new[] { "0/200", "0/300", "0/500" }, await PositionsAsync(0, 1, 2));
    }

    [Fact]
    public async Task A_position_on_another_node_replaces_the_stored_one()
    {
        await CommitAsync("a", (0, 1, "0/900"));
        await CommitAsync("a", [(0, 1, "0/100")], node: 2);

        Assert.Equal(new[] { "0/100" }, await PositionsAsync(0));
        Assert.Equal(2, await ScalarAsync<int>("SELECT node FROM eventstream.positions WHERE consumer_group = $1 AND shard_id = 0", _group));
    }

    [Fact]
    public async Task Arrays_of_different_lengths_are_refused()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(
            "SELECT * FROM eventstream.commit_positions($1, 'a', '{0,1}', '{1}', '{0,0}', '{0/1,0/2}', '{0,0}', '{1,2}')", _group));
        Assert.Equal(PostgresErrorCodes.InvalidParameterValue, error.SqlState);
    }

    private Task<List<(int Shard, bool Accepted)>> CommitAsync(string member, params (int Shard, long Epoch, string Lsn)[] commits) =>
        CommitAsync(member, commits, node: 0);

    private async Task<List<(int Shard, bool Accepted)>> CommitAsync(string member, (int Shard, long Epoch, string Lsn)[] commits, int node)
    {
        await using var command = _database.CreateCommand("SELECT shard, accepted FROM eventstream.commit_positions($1, $2, $3, $4, $5, $6::pg_lsn[], $7, $8)");
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        command.Parameters.Add(new NpgsqlParameter { Value = member });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select(c => c.Shard).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select(c => c.Epoch).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select(_ => node).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select(c => c.Lsn).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select(_ => 0L).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = commits.Select((_, i) => (long)i + 1).ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        var results = new List<(int, bool)>();
        while (await reader.ReadAsync())
        {
            results.Add((reader.GetInt32(0), reader.GetBoolean(1)));
        }
        return results;
    }

    /// <summary>The stored commit LSN of each shard, null where none.</summary>
    private async Task<List<string?>> PositionsAsync(params int[] shards)
    {
        var positions = new List<string?>();
        foreach (var shard in shards)
        {
            positions.Add(await ScalarAsync<string?>("SELECT commit_lsn::text FROM eventstream.positions WHERE consumer_group = $1 AND shard_id = $2", _group, shard));
        }
        return positions;
    }

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = _database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = _database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var result = await command.ExecuteScalarAsync();
        return result is DBNull or null ? default! : (T)result;
    }
}
