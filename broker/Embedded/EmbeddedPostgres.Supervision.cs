using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Embedded;

/// <summary>Whether the embedded server still runs, and starting it again after it died.</summary>
public sealed partial class EmbeddedPostgres
{
    private static readonly TimeSpan RestartRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>True while the server's postmaster (the process in postmaster.pid) runs.</summary>
    public bool IsRunning()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(_commands.Layout.Cluster, "postmaster.pid")).FirstOrDefault();
            if (!int.TryParse(first, out var pid))
            {
                return false;
            }
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts the server again on its port, after it died. Crash recovery replays its WAL, so
    /// nothing committed is lost. Retries while the dead server's last processes let go of its
    /// shared memory and port, up to the options' timeout, and stops as soon as the server runs
    /// (an operator's <c>pg_ctl restart</c> may have started it meanwhile).
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1 && IsRunning())
            {
                return;
            }
            try
            {
                await _startAgain(cancellationToken);
                EmbeddedPostgresLog.Restarted(_logger, Port);
                return;
            }
            catch (EmbeddedPostgresException e) when (deadline.Elapsed < _commands.Timeout)
            {
                EmbeddedPostgresLog.RestartFailed(_logger, attempt, e.Message);
                await Task.Delay(RestartRetryDelay, cancellationToken);
            }
        }
    }
}
