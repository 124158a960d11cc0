namespace EventStream.Broker.Embedded;

/// <summary>
/// Settings of the PostgreSQL server the broker starts itself when no connection string is
/// configured. Bound from <c>EventStream:Embedded</c>
/// (e.g. <c>EventStream__Embedded__DataDirectory</c>).
/// </summary>
/// <remarks>
/// The data directory holds <c>pgdata/</c> (the cluster), <c>run/</c> (the unix socket),
/// <c>postgres.log</c>, the generated password and a lock held while a broker uses it.
/// When the broker runs as root, PostgreSQL runs as <see cref="OsUser"/>, which then owns
/// the directory and must be able to reach it (every parent directory searchable).
/// </remarks>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>Configuration section the options are bound from.</summary>
    public const string SectionName = "EventStream:Embedded";

    /// <summary>Where the cluster and its files live; kept between runs.</summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory();

    /// <summary>Directory holding initdb, pg_ctl and postgres; found automatically when unset.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>Loopback TCP port; 0 picks a free one, preferring the one used last time.</summary>
    public int Port { get; set; }

    /// <summary>Database the broker uses (also pg_cron's database).</summary>
    public string Database { get; set; } = "eventstream";

    /// <summary>
    /// <c>max_slot_wal_keep_size</c>: how much WAL a lagging replication slot may hold back
    /// before PostgreSQL invalidates it, so a dead consumer cannot fill the disk.
    /// </summary>
    public string MaxSlotWalKeepSize { get; set; } = "4GB";

    /// <summary><c>max_replication_slots</c>, and half of <c>max_wal_senders</c>. Default 64.</summary>
    public int MaxReplicationSlots { get; set; } = 64;

    /// <summary>Longest wait for initdb, start and stop, each.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Preload pg_cron (with <c>cron.database_name</c> = <see cref="Database"/>) when it is
    /// installed. Default true; without it the broker runs its timers itself.
    /// </summary>
    public bool PreloadPgCron { get; set; } = true;

    /// <summary>
    /// When above 0, runs a local Citus cluster instead of one server: a coordinator in
    /// <see cref="DataDirectory"/> and this many workers in <c>worker-1</c>, <c>worker-2</c>, ...
    /// beneath it, each on its own loopback port. Needs the citus extension installed.
    /// </summary>
    public int CitusWorkers { get; set; }

    /// <summary>
    /// Failed restarts in a row of a server that died while the broker ran, after which the broker
    /// stops with exit code 1; the waits between them grow from 1 s to 30 s. Default 10.
    /// </summary>
    public int MaxRestartAttempts { get; set; } = 10;

    /// <summary>Account PostgreSQL runs as when the broker runs as root.</summary>
    public string OsUser { get; set; } = "postgres";

    /// <summary>
    /// <c>/var/lib/eventstream</c> for root, else <c>$XDG_DATA_HOME/eventstream</c> or
    /// <c>~/.local/share/eventstream</c>.
    /// </summary>
    public static string DefaultDataDirectory()
    {
        if (UnixUser.IsRoot)
        {
            return "/var/lib/eventstream";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "eventstream");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "share", "eventstream");
    }
}
