using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>Waits for a PostgreSQL server to accept connections.</summary>
internal static class ConnectionProbe
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Opens a connection, retrying transient failures (refused, starting up) until
    /// <paramref name="timeout"/>; other failures, such as a wrong password, end it at once.
    /// </summary>
    public static async Task WaitAsync(
        NpgsqlDataSource dataSource, TimeSpan timeout, ILogger logger, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && timeProvider.GetElapsedTime(started) + delay < timeout)
            {
                StorageLog.WaitingForServer(logger, e.Message);
                await Task.Delay(delay, timeProvider, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }
}
