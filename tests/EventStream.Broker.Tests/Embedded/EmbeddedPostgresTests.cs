using System.Net.Sockets;
using EventStream.Broker.Embedded;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventStream.Broker.Tests.Embedded;

/// <summary>The launcher against the shared server started by <see cref="PostgresFixture"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class EmbeddedPostgresTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Started_server_has_logical_wal_and_the_configured_limits()
    {
        var ct = TestTimeout.Token();

        Assert.Equal("logical", await ShowAsync(fixture.DataSource, "wal_level", ct));
        Assert.Equal("4GB", await ShowAsync(fixture.DataSource, "max_slot_wal_keep_size", ct));
        Assert.Equal("64", await ShowAsync(fixture.DataSource, "max_replication_slots", ct));
        Assert.Equal("127.0.0.1", await ShowAsync(fixture.DataSource, "listen_addresses", ct));
        Assert.Equal(fixture.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), await ShowAsync(fixture.DataSource, "port", ct));
    }

    [Fact]
    public async Task Pg_cron_is_preloaded_when_installed()
    {
        var ct = TestTimeout.Token();
        await using var available = fixture.DataSource.CreateCommand("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'");
        var installed = (long)(await available.ExecuteScalarAsync(ct))! > 0;

        var preload = await ShowAsync(fixture.DataSource, "shared_preload_libraries", ct);

        Assert.Equal(installed, preload.Contains("pg_cron", StringComparison.Ordinal));
        if (installed)
        {
            Assert.Equal("eventstream", await ShowAsync(fixture.DataSource, "cron.database_name", ct));
        }
    }

    [Fact]
    public async Task Server_requires_the_generated_password()
    {
        var wrong = new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString) { Password = "wrong", Pooling = false };
        await using var connection = new NpgsqlConnection(wrong.ConnectionString);

        var e = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync(TestTimeout.Token()));

        Assert.Equal(PostgresErrorCodes.InvalidPassword, e.SqlState);
        var mode = File.GetUnixFileMode(Path.Combine(fixture.DataDirectory, "password"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task Second_launcher_on_a_directory_in_use_fails_with_a_clear_error()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = fixture.DataDirectory };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains("in use by another EventStream broker", e.Message, StringComparison.Ordinal);
        Assert.Contains(fixture.DataDirectory, e.Message, StringComparison.Ordinal);
        Assert.Equal("logical", await ShowAsync(fixture.DataSource, "wal_level", TestTimeout.Token()));
    }

    [Fact]
    public async Task Server_accepts_tcp_only_on_loopback()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", fixture.Server.Port, TestTimeout.Token());
        Assert.True(client.Connected);
    }

    internal static async Task<string> ShowAsync(NpgsqlDataSource dataSource, string setting, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SHOW {setting}");
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
