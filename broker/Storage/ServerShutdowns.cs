using System.Collections.Concurrent;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>
/// Tells replication streams when their PostgreSQL server begins to shut down. A walsender that
/// is told to stop waits until its client has confirmed everything it was sent; a stream paused
/// for backpressure (or holding uncommitted events) never confirms, and would hold the server's
/// shutdown until the walsender times out. One idle connection per server waits for the
/// server's notice that it is terminating sessions (57P01, sent at the start of a fast shutdown);
/// the streams close at once and reconnect when the server is back.
/// </summary>
internal sealed class ServerShutdowns(ILogger<ServerShutdowns> logger) : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private readonly ILogger _logger = logger;

    /// <summary>
    /// A token cancelled when the server at <paramref name="connectionString"/> is next seen
    /// shutting down (or its watch connection breaks). Ask again after it fires.
    /// </summary>
    public CancellationToken Next(string connectionString) =>
        _watches.GetOrAdd(connectionString, s => new Watch(s, this)).Current;

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync();
        await Task.WhenAll(_watches.Values.Select(w => w.Running));
        _disposing.Dispose();
    }

    private sealed class Watch
    {
        private readonly Lock _gate = new();
        private CancellationTokenSource _current = new();

        public Watch(string connectionString, ServerShutdowns owner)
        {
            Running = Task.Run(() => RunAsync(connectionString, owner), CancellationToken.None);
        }

        public Task Running { get; }

        public CancellationToken Current
        {
            get
            {
                lock (_gate)
                {
                    return _current.Token;
                }
            }
        }

        private async Task RunAsync(string connectionString, ServerShutdowns owner)
        {
            var stopping = owner._disposing.Token;
            var builder = new NpgsqlConnectionStringBuilder(connectionString)
            {
                Pooling = false,
                ApplicationName = "eventstream-shutdown-watch",
                // The server's notice must be read as it comes, not at the next command.
                KeepAlive = 0,
            };
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(builder.ConnectionString);
                    await connection.OpenAsync(stopping);
                    while (true)
                    {
                        // Returns on notifications only; the broker sends none on this connection.
                        await connection.WaitAsync(stopping);
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is NpgsqlException or PostgresException or IOException)
                {
                    if (e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown })
                    {
                        StorageLog.ServerShuttingDown(owner._logger, builder.Host ?? "", builder.Port);
                    }
                    Fire();
                }
                try
                {
                    await Task.Delay(RetryDelay, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Fire();
        }

        /// <summary>Cancels the current token and hands out a fresh one.</summary>
        private void Fire()
        {
            CancellationTokenSource fired;
            lock (_gate)
            {
                fired = _current;
                _current = new CancellationTokenSource();
            }
            // Not disposed: a stream may still be linking to its token.
            fired.Cancel();
        }
    }
}
