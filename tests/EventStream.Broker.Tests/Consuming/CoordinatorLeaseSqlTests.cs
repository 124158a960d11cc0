using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>The coordinator lease functions of sql/006 on a real database, driven as brokers drive them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CoordinatorLeaseSqlTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);
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
    public async Task First_broker_acquires_a_free_lease_with_epoch_1()
    {
        var lease = await AcquireAsync("a", Long);
        Assert.Equal(new Lease(true, "a", "http://a:7400", 1), lease);
    }

    [Fact]
    public async Task Lease_expires_by_the_database_clock_after_its_duration()
    {
        await AcquireAsync("a", Long);
        var remaining = await ScalarAsync<TimeSpan>(
            "SELECT expires_at - clock_timestamp() FROM eventstream.group_coordinators WHERE group_name = $1", _group);
        Assert.InRange(remaining, Long - TimeSpan.FromSeconds(5), Long);
    }

    [Fact]
    public async Task Holder_renews_under_the_same_epoch_and_pushes_the_expiry_out()
    {
        await AcquireAsync("a", Short);
        var before = await ExpiryAsync();
        var renewed = await AcquireAsync("a", Long);
        Assert.Equal(new Lease(true, "a", "http://a:7400", 1), renewed);
        Assert.True(await ExpiryAsync() > before + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Another_broker_is_refused_while_the_lease_lasts_and_told_who_holds_it()
    {
        await AcquireAsync("a", Long);
        var refused = await AcquireAsync("b", Long);
        Assert.Equal(new Lease(false, "a", "http://a:7400", 1), refused);
        Assert.Equal(("a", "http://a:7400"), await HolderAsync());
    }

    [Fact]
    public async Task Another_broker_takes_an_expired_lease_under_the_next_epoch()
    {
        await AcquireAsync("a", Short);
        await Task.Delay(Short * 2);
        Assert.Null(await HolderAsync());

        var taken = await AcquireAsync("b", Long);
        Assert.Equal(new Lease(true, "b", "http://b:7400", 2), taken);
        // The former holder's renewal now finds another holder.
        Assert.Equal(new Lease(false, "b", "http://b:7400", 2), await AcquireAsync("a", Long));
    }

    [Fact]
    public async Task Holder_whose_lease_lapsed_gets_it_back_under_a_new_epoch()
    {
        await AcquireAsync("a", Short);
        await Task.Delay(Short * 2);
        Assert.Equal(new Lease(true, "a", "http://a:7400", 2), await AcquireAsync("a", Long));
    }

    [Fact]
    public async Task Released_lease_is_free_at_once_and_its_epoch_keeps_growing()
    {
        await AcquireAsync("a", Long);
        Assert.True(await ScalarAsync<bool>("SELECT eventstream.release_coordinator($1, $2, $3)", _group, "a", 1L));
        Assert.Null(await HolderAsync());

        Assert.Equal(new Lease(true, "b", "http://b:7400", 2), await AcquireAsync("b", Long));
    }

    [Fact]
    public async Task Release_by_a_former_holder_or_under_an_old_epoch_changes_nothing()
    {
        await AcquireAsync("a", Short);
        await Task.Delay(Short * 2);
        await AcquireAsync("b", Long);

        Assert.False(await ScalarAsync<bool>("SELECT eventstream.release_coordinator($1, $2, $3)", _group, "a", 1L));
        Assert.False(await ScalarAsync<bool>("SELECT eventstream.release_coordinator($1, $2, $3)", _group, "b", 1L));
        Assert.Equal(("b", "http://b:7400"), await HolderAsync());
    }

    [Fact]
    public async Task Of_brokers_racing_for_a_free_lease_exactly_one_wins()
    {
        var brokers = Enumerable.Range(0, 8).Select(i => "broker-" + i).ToList();
        var results = await Task.WhenAll(brokers.Select(b => Task.Run(() => AcquireAsync(b, Long))));
        var winner = Assert.Single(results, r => r.Acquired);
        Assert.All(results, r => Assert.Equal((winner.Holder, 1L), (r.Holder, r.Epoch)));
    }

    [Fact]
    public async Task Deleting_the_group_deletes_its_lease()
    {
        await AcquireAsync("a", Long);
        await ScalarAsync<object>("DELETE FROM eventstream.consumer_groups WHERE group_name = $1", _group);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM eventstream.group_coordinators WHERE group_name = $1", _group));
    }

    [Fact]
    public async Task A_lease_needs_an_existing_group_and_a_positive_duration()
    {
        var missing = await Assert.ThrowsAsync<PostgresException>(() => AcquireAsync("a", Long, "g-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, missing.SqlState);
        await Assert.ThrowsAsync<PostgresException>(() => AcquireAsync("a", TimeSpan.Zero));
    }

    private async Task<Lease> AcquireAsync(string broker, TimeSpan duration, string? group = null)
    {
        await using var command = _database.CreateCommand(
            "SELECT acquired, holder, holder_address, lease_epoch FROM eventstream.acquire_coordinator($1, $2, $3, $4)");
        command.Parameters.Add(new NpgsqlParameter { Value = group ?? _group });
        command.Parameters.Add(new NpgsqlParameter { Value = broker });
        command.Parameters.Add(new NpgsqlParameter { Value = $"http://{broker}:7400" });
        command.Parameters.Add(new NpgsqlParameter { Value = duration });
        await using var reader = await command.ExecuteReaderAsync(TestTimeout.Token());
        Assert.True(await reader.ReadAsync());
        return new Lease(reader.GetBoolean(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
    }

    private async Task<(string, string)?> HolderAsync()
    {
        await using var command = _database.CreateCommand("SELECT holder, holder_address FROM eventstream.group_coordinator($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        await using var reader = await command.ExecuteReaderAsync(TestTimeout.Token());
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private Task<DateTime> ExpiryAsync() =>
        ScalarAsync<DateTime>("SELECT expires_at FROM eventstream.group_coordinators WHERE group_name = $1", _group);

    private async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = _database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return (T)(await command.ExecuteScalarAsync(TestTimeout.Token()))!;
    }

    private sealed record Lease(bool Acquired, string Holder, string Address, long Epoch);
}
