namespace EventStream.Broker.Embedded;

/// <summary>
/// Runs initdb and pg_ctl in the data directory, as the server account when the broker runs
/// as root (both refuse to run as root).
/// </summary>
internal sealed class PostgresCommands
{
    private readonly PostgresBinaries _binaries;
    private readonly IReadOnlyList<string> _prefix;
    private readonly string? _setsid;

    public PostgresCommands(PostgresBinaries binaries, DataDirectoryLayout layout, ServerAccount? account, TimeSpan timeout)
    {
        _binaries = binaries;
        _prefix = account?.SwitchUserPrefix ?? [];
        _setsid = Executables.Find("setsid", "/usr/bin", "/bin");
        Layout = layout;
        Timeout = timeout;
    }

    public DataDirectoryLayout Layout { get; }

    public TimeSpan Timeout { get; }

    // Longer than pg_ctl's own -t, so pg_ctl reports a slow start itself.
    private TimeSpan ProcessTimeout => Timeout + TimeSpan.FromSeconds(15);

    /// <summary>Runs a program of the server installation with <paramref name="arguments"/>.</summary>
    public Task<ProcessResult> RunAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync([.. _prefix, _binaries.Tool(tool), .. arguments], Layout.Root, ProcessTimeout, cancellationToken);

    /// <summary>
    /// Like <see cref="RunAsync"/> but in a new session, so the server pg_ctl leaves behind
    /// does not get the terminal's Ctrl+C: the broker stops it after draining.
    /// </summary>
    public Task<ProcessResult> RunDetachedAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> session = _setsid is null ? [] : [_setsid, "--wait"];
        return ProcessRunner.RunAsync(
            [.. _prefix, .. session, _binaries.Tool(tool), .. arguments], Layout.Root, ProcessTimeout, cancellationToken);
    }

    /// <summary>True when a postmaster is running on the cluster.</summary>
    public async Task<bool> IsServerRunningAsync(CancellationToken cancellationToken)
    {
        // pg_ctl status: 0 running, 3 not running, 4 no cluster.
        var status = await RunAsync("pg_ctl", ["status", "-D", Layout.Cluster], cancellationToken);
        return status.ExitCode == 0;
    }

    /// <summary>Stops the server, waiting for it; returns pg_ctl's result.</summary>
    public Task<ProcessResult> StopServerAsync(string mode, CancellationToken cancellationToken) =>
        RunAsync("pg_ctl", ["stop", "-D", Layout.Cluster, "-m", mode, "-w", "-t", Seconds, "-s"], cancellationToken);

    /// <summary>Timeout in whole seconds for pg_ctl's -t.</summary>
    public string Seconds => ((int)Math.Ceiling(Timeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
