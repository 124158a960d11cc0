using System.Threading.Channels;
using EventStream.Broker.Storage;
using Npgsql;

namespace EventStream.Broker.Reading;

/// <summary>
/// Tells every broker's followers (<see cref="CommitListener"/>) which events this broker's
/// transactions stored: the produce path hands each committed transaction's ranges here, and one
/// loop sends them with <c>pg_notify</c> on a connection of its own, outside the produce
/// transactions, so producing never waits for it (nor takes PostgreSQL's notification lock).
/// </summary>
internal sealed class CommitFeed(DatabaseEndpoint database, ILogger<CommitFeed> logger) : BackgroundService
{
    private const int MaxNoticesPerStatement = 5_000;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);
    private readonly Channel<CommitNotice> _pending = Channel.CreateUnbounded<CommitNotice>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Called once a transaction committed, in commit order, before the next one of its writer commits.</summary>
    public void Publish(CommitNotice notice) => _pending.Writer.TryWrite(notice);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<CommitNotice>();
        try
        {
            var dataSource = await database.Ready.WaitAsync(stoppingToken);
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxNoticesPerStatement && _pending.Reader.TryRead(out var notice))
                {
                    batch.Add(notice);
                }
                await SendAsync(dataSource, batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(NpgsqlDataSource dataSource, List<CommitNotice> batch, CancellationToken stoppingToken)
    {
        // unnest keeps the array's order, and notifications of one transaction arrive in the order sent.
        var payloads = CommitNoticeText.Format(batch).ToArray();
        while (true)
        {
            try
            {
                await using var command = dataSource.CreateCommand($"SELECT pg_notify('{CommitNoticeText.Channel}', p) FROM unnest($1::text[]) WITH ORDINALITY AS n(p, i) ORDER BY i");
                command.Parameters.Add(new NpgsqlParameter { Value = payloads });
                await command.ExecuteNonQueryAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Never ends the loop (a failed hosted service stops the broker). Followers lose their
                // channel when the database goes away, and read again.
                ReadLog.NoticesNotSent(logger, batch.Count, e.Message);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }
}
