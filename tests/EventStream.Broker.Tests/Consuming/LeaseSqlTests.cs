using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>The lease functions of sql/005 and sql/011 on a real database, driven as brokers drive them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LeaseSqlTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(30);
    private NpgsqlDataSource _database = null!;
    private readonly string _group = "g-" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.CreateDatabaseAsync(TestTimeout.Token()));
        await new MigrationRunner(_database, new RecordingLogger()).ApplyAsync(TestTimeout.Token());
        await ScalarAsync<bool>("SELECT eventstream.ensure_group($1, $2)", _group, new[] { "orders" });
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task One_member_gets_every_shard()
    {
        var leases = await ObtainAsync("a");
        Assert.Equal(Enumerable.Range(0, 32), leases.Select(l => l.Shard));
        Assert.All(leases, l => Assert.Equal(1, l.Epoch));
    }

    [Fact]
    public async Task Second_member_reaches_half_within_a_few_rounds_by_cooperative_handover()
    {
        await ObtainAsync("a");
        for (var round = 0; round < 40; round++)
        {
            await ObtainAsync("b");
            // The owner hands over what was asked for, as a broker does after the member commits.
            foreach (var lease in (await ObtainAsync("a")).Where(l => l.HandingOver))
            {
                await ScalarAsync<object>("SELECT eventstream.release_lease($1, $2, $3)", _group, lease.Shard, "a");
            }
        }
        Assert.Equal(16, (await ObtainAsync("a")).Count);
        Assert.Equal(16, (await ObtainAsync("b")).Count);
    }

    [Fact]
    public async Task A_member_asks_for_at_most_one_shard_per_round()
    {
        await ObtainAsync("a");
        await ObtainAsync("b");
        await ObtainAsync("b");
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM eventstream.leases WHERE consumer_group = $1 AND new_owner = 'b'", _group));
    }

    [Fact]
    public async Task Expired_member_loses_its_shards_to_the_next_claimer()
    {
        await ObtainAsync("a", TimeSpan.FromMilliseconds(300));
        await Task.Delay(600);
        var leases = await ObtainAsync("b");
        Assert.Equal(32, leases.Count);
        Assert.All(leases, l => Assert.Equal(2, l.Epoch));
    }

    [Fact]
    public async Task Commit_from_stale_owner_is_rejected()
    {
        var a = await ObtainAsync("a", TimeSpan.FromMilliseconds(300));
        await Task.Delay(600);
        await ObtainAsync("b");

        Assert.False(await CommitAsync("a", 0, a[0].Epoch, "0/100"));
        Assert.True(await CommitAsync("b", 0, a[0].Epoch + 1, "0/100"));
    }

    [Fact]
    public async Task Positions_only_move_forward()
    {
        var epoch = (await ObtainAsync("a"))[0].Epoch;
        Assert.True(await CommitAsync("a", 0, epoch, "0/200"));
        Assert.True(await CommitAsync("a", 0, epoch, "0/100"));
        Assert.Equal("0/200", await ScalarAsync<string>("SELECT commit_lsn::text FROM eventstream.positions WHERE consumer_group = $1 AND shard_id = 0", _group));
    }

    [Fact]
    public async Task Leaving_returns_shards_to_the_pool()
    {
        await ObtainAsync("a");
        await ScalarAsync<object>("SELECT eventstream.leave_group($1, $2)", _group, "a");
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM eventstream.leases WHERE consumer_group = $1 AND owner IS NOT NULL", _group));
        Assert.Equal(32, (await ObtainAsync("b")).Count);
    }

    [Fact]
    public async Task Expire_leases_forgets_dead_members()
    {
        await ObtainAsync("a", TimeSpan.FromMilliseconds(200));
        await Task.Delay(500);
        Assert.True(await ScalarAsync<int>("SELECT eventstream.expire_leases()") >= 1);
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM eventstream.leases WHERE consumer_group = $1 AND owner IS NOT NULL", _group));
    }

    /// <summary>One balancing round, as a broker makes it: the lease states, the balancer's plan, the claims applied.</summary>
    private async Task<List<(int Shard, long Epoch, bool HandingOver)>> ObtainAsync(string member, TimeSpan? session = null) =>
        (await GroupStore.ObtainLeasesAsync(_database, _group, member, session ?? Session, TestTimeout.Token()))
            .Select(l => (l.Shard, l.Epoch, l.HandingOver)).ToList();

    private Task<bool> CommitAsync(string member, int shard, long epoch, string lsn) =>
        ScalarAsync<bool>("SELECT eventstream.commit_position($1, $2, $3, $4, 0, $5::pg_lsn, 0, 1)", _group, member, shard, epoch, lsn);

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
