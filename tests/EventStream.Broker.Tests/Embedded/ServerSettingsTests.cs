using EventStream.Broker.Embedded;

namespace EventStream.Broker.Tests.Embedded;

public sealed class ServerSettingsTests
{
    [Fact]
    public void Pg_cron_settings_are_written_only_when_it_is_preloaded()
    {
        using var directory = new TestDirectory();
        var layout = DataDirectoryLayout.Create(directory.Path);
        var options = new EmbeddedPostgresOptions { Database = "events" };

        var with = ServerSettings.Render(options, layout, 5433, preloadPgCron: true, citus: false);
        var without = ServerSettings.Render(options, layout, 5433, preloadPgCron: false, citus: false);

        Assert.Contains("shared_preload_libraries = 'pg_cron'", with, StringComparison.Ordinal);
        Assert.Contains("cron.database_name = 'events'", with, StringComparison.Ordinal);
        Assert.DoesNotContain("pg_cron", without, StringComparison.Ordinal);
        Assert.Contains("wal_level = logical", without, StringComparison.Ordinal);
        Assert.Contains($"unix_socket_directories = '{layout.SocketDirectory}'", without, StringComparison.Ordinal);
    }

    [Fact]
    public void Citus_nodes_load_citus_first_and_decode_changes_as_the_distributed_table()
    {
        using var directory = new TestDirectory();
        var layout = DataDirectoryLayout.Create(directory.Path);

        var settings = ServerSettings.Render(new EmbeddedPostgresOptions(), layout, 5433, preloadPgCron: true, citus: true);

        Assert.Contains("shared_preload_libraries = 'citus,pg_cron'", settings, StringComparison.Ordinal);
        Assert.Contains("citus.enable_change_data_capture = on", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("citus", ServerSettings.Render(new EmbeddedPostgresOptions(), layout, 5433, preloadPgCron: true, citus: false), StringComparison.Ordinal);
    }

    [Fact]
    public void Too_long_socket_path_leaves_tcp_only()
    {
        using var directory = new TestDirectory();
        var layout = DataDirectoryLayout.Create(Path.Combine(directory.Path, new string('d', 90)));

        var settings = ServerSettings.Render(new EmbeddedPostgresOptions(), layout, 5433, preloadPgCron: false, citus: false);

        Assert.Contains("unix_socket_directories = ''", settings, StringComparison.Ordinal);
    }

    [Fact]
    public void Last_port_is_preferred_while_free()
    {
        var free = LoopbackPort.PickFree();
        Assert.Equal(free, LoopbackPort.Choose(0, free));
        Assert.Equal(6543, LoopbackPort.Choose(6543, free));
    }
}
