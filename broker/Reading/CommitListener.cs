using EventStream.Broker.Storage;
using Grpc.Core;
using Npgsql;

namespace EventStream.Broker.Reading;

/// <summary>
/// The broker's one <c>LISTEN</c> connection for commit notices (sent by each produce transaction as it commits),
/// opened when the first follower arrives and shared by all of them: following a topic costs a
/// queue, not a connection, a slot or a poll. When the connection is lost, every follower ends
/// (notices sent meanwhile are gone), and the next follower opens a new one.
/// </summary>
internal sealed class CommitListener : IDisposable
{
    private readonly DatabaseEndpoint _database;
    private readonly ILogger<CommitListener> _logger;
    private readonly CancellationToken _stopping;
    private readonly CancellationTokenRegistration _onStopping;
    private readonly Lock _lock = new();
    private readonly List<FollowSubscription> _followers = [];
    private Task? _listening;

    public CommitListener(DatabaseEndpoint database, IHostApplicationLifetime lifetime, ILogger<CommitListener> logger)
    {
        _database = database;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        _onStopping = _stopping.Register(() => EndAll(new RpcException(new Status(StatusCode.Unavailable, "The broker is shutting down."))));
    }

    /// <summary>
    /// A queue of the notices of <paramref name="topicId"/> sent from now on; returns once the
    /// channel listens, so a table read started afterwards misses nothing in between.
    /// </summary>
    public async Task<FollowSubscription> SubscribeAsync(int topicId, CancellationToken cancellationToken)
    {
        var follower = new FollowSubscription(topicId, Remove);
        Task listening;
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "The broker is shutting down."));
            }
            _followers.Add(follower);
            listening = _listening ??= ListenAsync();
        }
        try
        {
            await listening.WaitAsync(cancellationToken);
        }
        catch
        {
            follower.Dispose();
            throw;
        }
        return follower;
    }

    public void Dispose() => _onStopping.Dispose();

    private void Remove(FollowSubscription follower)
    {
        lock (_lock)
        {
            _followers.Remove(follower);
        }
    }

    /// <summary>Completes once LISTEN is in effect; the connection is then read in the background.</summary>
    private async Task ListenAsync()
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _database.DataSource.OpenConnectionAsync(_stopping);
            connection.Notification += (_, e) => Dispatch(e.Payload);
            await using (var listen = new NpgsqlCommand($"LISTEN {CommitNoticeText.Channel}", connection))
            {
                await listen.ExecuteNonQueryAsync(_stopping);
            }
            ReadLog.Listening(_logger);
        }
        catch (Exception e)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            Lose(e);
            throw;
        }
        _ = Task.Run(() => ReadAsync(connection), CancellationToken.None);
    }

    private async Task ReadAsync(NpgsqlConnection connection)
    {
        await using (connection)
        {
            try
            {
                while (true)
                {
                    await connection.WaitAsync(_stopping);
                }
            }
            catch (Exception e)
            {
                Lose(e);
            }
        }
    }

    private void Dispatch(string payload)
    {
        var notices = CommitNoticeText.Parse(payload);
        lock (_lock)
        {
            foreach (var follower in _followers)
            {
                foreach (var notice in notices)
                {
                    if (notice.TopicId == follower.TopicId)
                    {
                        follower.Offer(notice);
                    }
                }
            }
        }
    }

    private void Lose(Exception cause)
    {
        // One step: a follower arriving afterwards starts a new connection and is not ended with these.
        var followers = TakeAll(clearListening: true);
        if (!_stopping.IsCancellationRequested)
        {
            ReadLog.ListenerLost(_logger, followers.Length, cause.Message);
        }
        End(followers, new RpcException(new Status(StatusCode.Unavailable,
            "The broker lost its notification channel to the database while following; read again after the last event received.")));
    }

    private void EndAll(Exception reason) => End(TakeAll(clearListening: false), reason);

    private FollowSubscription[] TakeAll(bool clearListening)
    {
        lock (_lock)
        {
            if (clearListening)
            {
                _listening = null;
            }
            FollowSubscription[] followers = [.. _followers];
            _followers.Clear();
            return followers;
        }
    }

    private static void End(FollowSubscription[] followers, Exception reason)
    {
        foreach (var follower in followers)
        {
            follower.End(reason);
        }
    }
}
