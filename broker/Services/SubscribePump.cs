using EventStream.Broker.Consuming;
using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Broker.Services;

/// <summary>
/// The one writer of a Subscribe session: control messages (assignments, revocations, commit
/// results) and event batches, each within the broker's message limit. A send that fails ends
/// the session with a status saying so (see <see cref="Failure"/>) and a log line; the session's
/// end then makes what the member did not commit go out again.
/// </summary>
internal sealed class SubscribePump(
    GroupCoordinator coordinator, ConnectedMember member, int session, PayloadFormat format,
    IServerStreamWriter<SubscribeResponse> responses, DeliveryLimit limit, int maxMessageBytes, ILogger logger)
{
    private static readonly WriteOptions BufferedWrite = new(WriteFlags.BufferHint);

    /// <summary>Why sending failed, as the status to end the call with; null while it has not.</summary>
    public Status? Failure { get; private set; }

    /// <summary>Sends until <paramref name="sessionEnd"/> is cancelled, or cancels it when the member left, was superseded, or a send failed.</summary>
    public async Task RunAsync(CancellationTokenSource sessionEnd)
    {
        var cancellationToken = sessionEnd.Token;
        try
        {
            await SendAsync(cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The session ended for another reason (the call, a timeout, a newer session).
        }
        catch (MessageTooLargeException e)
        {
            GroupLog.MessageTooLarge(logger, coordinator.Group, member.Id, e.Shard, e.EventId, e.Size, maxMessageBytes);
            Failure = new Status(StatusCode.Internal,
                $"Event {e.EventId} of shard {e.Shard} takes {e.Size} bytes, more than the broker's message limit of {maxMessageBytes} bytes: " +
                "it cannot be delivered. The session ended.");
        }
        catch (Exception e)
        {
            GroupLog.SendFailed(logger, coordinator.Group, member.Id, e);
            Failure = new Status(StatusCode.Unavailable,
                "Sending to this member failed; the session ended and the events it did not commit will be delivered again. Join again.");
        }
        await sessionEnd.CancelAsync();
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        var control = member.Control;
        var round = new List<SubscribeResponse>();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (member.Left || member.Session != session)
            {
                return;
            }
            while (control.Reader.TryRead(out var message))
            {
                round.Add(message);
            }
            foreach (var batch in coordinator.TakeEvents(member, limit, format))
            {
                var message = new SubscribeResponse { Events = batch };
                // TakeEvents kept every batch of several events within the limit as it built them;
                // only a lone event, which goes whatever its size, can exceed it.
                if (batch.Events.Count == 1 && message.CalculateSize() is var size && size > maxMessageBytes)
                {
                    throw new MessageTooLargeException(batch.Shard, batch.Events[0].EventId, size);
                }
                round.Add(message);
            }
            if (round.Count == 0)
            {
                await member.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            // One flush per round rather than per message: a round holds a batch of every shard
            // with events, and each flush is a frame and a send of its own.
            for (var i = 0; i < round.Count; i++)
            {
                responses.WriteOptions = i < round.Count - 1 ? BufferedWrite : null;
                await responses.WriteAsync(round[i], cancellationToken);
            }
            round.Clear();
        }
    }
}

/// <summary>A message for a member would exceed the send limit: its first event cannot fit any message.</summary>
internal sealed class MessageTooLargeException(int shard, long eventId, int size)
    : Exception($"A message of {size} bytes for shard {shard} (event {eventId}) exceeds the send limit.")
{
    public int Shard { get; } = shard;

    public long EventId { get; } = eventId;

    public int Size { get; } = size;
}
