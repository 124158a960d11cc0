using System.Globalization;
using System.Text;

namespace EventStream.Broker.Embedded;

/// <summary>Renders eventstream.conf, the settings the broker needs from its own server.</summary>
internal static class ServerSettings
{
    // sun_path holds 108 bytes including the terminator.
    private const int MaxSocketPathLength = 107;

    /// <summary>True when the socket path fits; otherwise the server listens on TCP only.</summary>
    public static bool SocketPathFits(DataDirectoryLayout layout, int port) =>
        Encoding.UTF8.GetByteCount(Path.Combine(layout.SocketDirectory, $".s.PGSQL.{port}.lock")) <= MaxSocketPathLength;

    public static string Render(EmbeddedPostgresOptions options, DataDirectoryLayout layout, int port, bool preloadPgCron, bool citus)
    {
        var socketDirectory = SocketPathFits(layout, port) ? layout.SocketDirectory : "";
        var lines = new List<string>
        {
            "# Written by the EventStream broker on every start: change its options instead.",
            "listen_addresses = '127.0.0.1'",
            Setting("port", port),
            Setting("unix_socket_directories", Quote(socketDirectory)),
            "wal_level = logical",
            Setting("max_replication_slots", options.MaxReplicationSlots),
            // A group being created holds a second WAL sender (its snapshot) beside its stream.
            Setting("max_wal_senders", options.MaxReplicationSlots * 2),
            Setting("max_slot_wal_keep_size", Quote(options.MaxSlotWalKeepSize)),
            // Drop replication connections whose client died without closing.
            "wal_sender_timeout = '60s'",
            // pg_ctl -l sends the server's stderr to postgres.log.
            "logging_collector = off",
            "log_destination = 'stderr'",
            "log_line_prefix = '%m [%p] %q%u@%d '",
        };
        // Citus must be loaded first.
        var preload = new List<string>();
        if (citus)
        {
            preload.Add("citus");
        }
        if (preloadPgCron)
        {
            preload.Add("pg_cron");
        }
        if (preload.Count > 0)
        {
            lines.Add(Setting("shared_preload_libraries", Quote(string.Join(',', preload))));
            lines.Add("max_worker_processes = 32");
        }
        if (preloadPgCron)
        {
            lines.Add(Setting("cron.database_name", Quote(options.Database)));
            // Jobs run in background workers, so they need no password to connect.
            lines.Add("cron.use_background_workers = on");
        }
        if (citus)
        {
            // Decoded changes name the distributed table, and shard moves are not re-emitted.
            lines.Add("citus.enable_change_data_capture = on");
            lines.Add("max_connections = 200");
        }

        return string.Join('\n', lines) + "\n";
    }

    private static string Setting(string name, object value) =>
        string.Create(CultureInfo.InvariantCulture, $"{name} = {value}");

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
