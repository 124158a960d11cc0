using EventStream.Protocol;
using EventStream.Broker.Citus;
using EventStream.Broker.Cluster;
using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using EventStream.Broker.Tests.Maintenance;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>A broker's hold on a group's coordinator lease: renewal, loss, release, redirects; on a real database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CoordinatorLeaseTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(1);
    private readonly string _group = "g-" + Guid.NewGuid().ToString("N");
    private IHost _host = null!;
    private DatabaseEndpoint _database = null!;

    private NpgsqlDataSource DataSource => _database.DataSource;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:EventStream"] = await fixture.CreateDatabaseAsync(TestTimeout.Token()) });
        builder.Logging.ClearProviders();
        builder.Services.AddEventStreamDatabase(builder.Configuration);
        _host = builder.Build();
        await _host.StartAsync(TestTimeout.Token());
        _database = _host.Services.GetRequiredService<DatabaseEndpoint>();
        await _database.Ready.WaitAsync(TestTimeout.Token());
        await using var command = DataSource.CreateCommand("SELECT eventstream.ensure_group($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        command.Parameters.Add(new NpgsqlParameter { Value = new[] { "orders" } });
        await command.ExecuteScalarAsync(TestTimeout.Token());
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync(TestTimeout.Token());
        _host.Dispose();
    }

    [Fact]
    public async Task Renewals_keep_the_lease_well_past_its_duration()
    {
        // Longer than the other tests' lease: renewals every third of 1 s missed their deadline when
        // the 2 cores were busy with brokers of other tests.
        var duration = TimeSpan.FromSeconds(3);
        var broker = Broker("a", duration: duration);
        await using var lease = await broker.AcquireAsync(_group, TestTimeout.Token());

        await Task.Delay(duration * 3);

        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.Equal((broker.Identity.Id, lease.Epoch), await HolderAsync());
    }

    [Fact]
    public async Task Another_broker_is_sent_to_the_holder_with_UNAVAILABLE_and_a_trailer()
    {
        var a = Broker("a");
        await using var lease = await a.AcquireAsync(_group, TestTimeout.Token());

        var redirect = await Assert.ThrowsAsync<RpcException>(() => Broker("b").AcquireAsync(_group, TestTimeout.Token()));
        Assert.Equal(StatusCode.Unavailable, redirect.StatusCode);
        Assert.Contains("http://a:7400", redirect.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("http://a:7400", redirect.Trailers.GetValue(CoordinatorRedirect.MetadataKey));

        var elsewhere = await Assert.ThrowsAsync<RpcException>(() => Broker("b").ThrowIfHeldElsewhereAsync(_group, TestTimeout.Token()));
        Assert.Equal("http://a:7400", elsewhere.Trailers.GetValue(CoordinatorRedirect.MetadataKey));
        await a.ThrowIfHeldElsewhereAsync(_group, TestTimeout.Token());
    }

    [Fact]
    public async Task Lease_is_lost_at_the_first_renewal_that_finds_another_holder()
    {
        await using var lease = await Broker("a").AcquireAsync(_group, TestTimeout.Token());
        await ExecuteAsync("UPDATE eventstream.group_coordinators SET broker_id = 'intruder', epoch = epoch + 1 WHERE group_name = $1");

        await WaitAsync(lease.Lost, Duration);
        Assert.Equal("intruder", await ScalarAsync<string>("SELECT broker_id FROM eventstream.group_coordinators WHERE group_name = $1"));
    }

    [Fact]
    public async Task Lease_is_lost_without_renewing_when_it_ran_out_meanwhile_as_after_a_long_pause()
    {
        var clock = new ManualTimeProvider();
        await using var lease = await Broker("a", clock).AcquireAsync(_group, TestTimeout.Token());
        var expiry = await ScalarAsync<DateTime>("SELECT expires_at FROM eventstream.group_coordinators WHERE group_name = $1");

        clock.Advance(Duration * 2);

        await WaitAsync(lease.Lost, Duration);
        Assert.Equal(expiry, await ScalarAsync<DateTime>("SELECT expires_at FROM eventstream.group_coordinators WHERE group_name = $1"));
    }

    [Fact]
    public async Task Disposing_releases_the_lease_so_another_broker_takes_it_at_once_under_the_next_epoch()
    {
        var first = await Broker("a").AcquireAsync(_group, TestTimeout.Token());
        await first.DisposeAsync();

        var b = Broker("b");
        await using var second = await b.AcquireAsync(_group, TestTimeout.Token());
        Assert.Equal(first.Epoch + 1, second.Epoch);
        Assert.Equal((b.Identity.Id, second.Epoch), await HolderAsync());
    }

    private CoordinatorLeases Broker(string name, TimeProvider? clock = null, TimeSpan? duration = null)
    {
        var options = Options.Create(new ClusterOptions { AdvertisedAddress = $"http://{name}:7400", CoordinatorLeaseDuration = duration ?? Duration });
        var topology = new ClusterTopology(_database, new ClusterSettings(_database), TimeProvider.System);
        return new CoordinatorLeases(_database, topology, new BrokerIdentity(options, new NoServer()), options, clock ?? TimeProvider.System, NullLogger<CoordinatorLeases>.Instance);
    }

    private static async Task WaitAsync(CancellationToken lost, TimeSpan within)
    {
        var fired = new TaskCompletionSource();
        await using var registration = lost.Register(() => fired.TrySetResult());
        // The renewal interval plus slack for a loaded machine.
        await fired.Task.WaitAsync(within + TimeSpan.FromSeconds(5));
    }

    private async Task<(string, long)> HolderAsync()
    {
        await using var command = DataSource.CreateCommand("SELECT holder, lease_epoch FROM eventstream.group_coordinator($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        await using var reader = await command.ExecuteReaderAsync(TestTimeout.Token());
        Assert.True(await reader.ReadAsync(), "Nobody holds the lease.");
        return (reader.GetString(0), reader.GetInt64(1));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        await command.ExecuteNonQueryAsync(TestTimeout.Token());
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = _group });
        return (T)(await command.ExecuteScalarAsync(TestTimeout.Token()))!;
    }

    /// <summary>No Kestrel: the advertised address is configured.</summary>
    private sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
