using EventStream.Broker.Consuming;
using EventStream.Protocol.V1;
using Grpc.Core;
using Npgsql;

namespace EventStream.Broker.Reading;

/// <summary>
/// One Read call: the table read, then (with follow) the events of each commit notice of the topic,
/// sent in messages bounded by <see cref="DeliveryLimit"/>, until the count is reached, the table
/// read ends without follow, or the call is cancelled.
/// </summary>
internal sealed class ReadCall(
    ReadPlan plan, NpgsqlDataSource database, CommitListener listener, DeliveryLimit limit, TimeProvider time, IServerStreamWriter<ReadResponse> responses)
{
    /// <summary>Notices fetched in one round trip while following.</summary>
    private const int NoticesPerFetch = 64;

    /// <summary>
    /// Table events this recent are remembered, so their transactions' notices, which may arrive
    /// after the read began, do not send them twice. Covers the notice's delay and clock skew between brokers.
    /// </summary>
    private static readonly TimeSpan SeamWindow = TimeSpan.FromMinutes(1);

    private ReadResponse _message = new();
    private int _messageBytes;
    private long _sent;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Listen first: whatever commits from now on is noticed, and what committed before is in the table.
        using var follower = plan.Follow ? await listener.SubscribeAsync(plan.Topic.Id, cancellationToken) : null;
        var seen = follower is null ? null : new SeenRanges();
        var recent = time.GetUtcNow().UtcDateTime - SeamWindow;
        if (plan.ReadsTable)
        {
            await foreach (var page in TableRead.ReadAsync(database, plan, cancellationToken))
            {
                foreach (var e in page)
                {
                    if (!plan.WantsFromTable(e))
                    {
                        continue;
                    }
                    if (e.IngestTime >= recent)
                    {
                        seen?.Add(e.EventId);
                    }
                    if (!await SendAsync(e, cancellationToken))
                    {
                        return;
                    }
                }
            }
        }
        await FlushAsync(cancellationToken);
        if (follower is null)
        {
            return;
        }

        var notices = new List<CommitNotice>(NoticesPerFetch);
        // Throws the reason the notices ended (UNAVAILABLE): events may have been missed.
        while (await follower.Notices.WaitToReadAsync(cancellationToken))
        {
            while (notices.Count < NoticesPerFetch && follower.Notices.TryRead(out var notice))
            {
                notices.Add(notice);
            }
            foreach (var e in await TableRead.FetchAsync(database, notices, cancellationToken))
            {
                if (plan.WantsFollowed(e) && !seen!.Contains(e.EventId) && !await SendAsync(e, cancellationToken))
                {
                    return;
                }
            }
            notices.Clear();
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Adds the event to the message being filled; false once the count is reached (all sent).</summary>
    private async Task<bool> SendAsync(StreamedEvent e, CancellationToken cancellationToken)
    {
        var message = EventMessages.ToMessage(e, plan.Topic.Name, plan.Format);
        var size = DeliveryLimit.SizeInBatch(message);
        if (_message.Events.Count > 0 && (_message.Events.Count >= limit.MaxEvents || _messageBytes + size > limit.MaxBytes))
        {
            await FlushAsync(cancellationToken);
        }
        _message.Events.Add(message);
        _messageBytes += size;
        _sent++;
        if (plan.MaxEvents > 0 && _sent >= plan.MaxEvents)
        {
            await FlushAsync(cancellationToken);
            return false;
        }
        return true;
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_message.Events.Count == 0)
        {
            return;
        }
        await responses.WriteAsync(_message, cancellationToken);
        _message = new ReadResponse();
        _messageBytes = 0;
    }
}
