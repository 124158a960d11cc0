using EventStream.Broker.Consuming;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Broker.Services;

/// <summary>
/// One member's Subscribe call once it has joined: confirms the join, reads the member's commits and
/// heartbeats, has <see cref="SubscribePump"/> write everything the broker sends (its one writer),
/// and ends with a status that says why: a clean leave (OK), a newer session of the member, missed
/// heartbeats, the group moving off this broker, or a failed send (UNAVAILABLE or INTERNAL).
/// </summary>
internal sealed class SubscribeSession(
    ConsumerGroups groups, GroupCoordinator coordinator, ConnectedMember member, PayloadFormat format,
    DeliveryLimit limit, int maxMessageBytes, ILogger logger)
{
    public async Task RunAsync(IAsyncStreamReader<SubscribeRequest> requests, IServerStreamWriter<SubscribeResponse> responses, CancellationToken token)
    {
        var session = member.Session;
        await responses.WriteAsync(new SubscribeResponse
        {
            Joined = new Joined { MemberId = member.Id, HeartbeatInterval = Duration.FromTimeSpan(ConsumeOptions.HeartbeatFor(member.SessionTimeout)) },
        }, token);
        await coordinator.BalanceAsync(member, token);

        // From here the pump is the session's one writer: commit results join the control messages.
        var control = member.Control;
        // Ended when the member is dropped (silent past its session timeout) or superseded by a
        // newer session of the same member, or when a send fails, so the client learns it must join again.
        using var sessionEnd = CancellationTokenSource.CreateLinkedTokenSource(token);
        var pump = new SubscribePump(coordinator, member, session, format, responses, limit, maxMessageBytes, logger);
        var pumping = Task.Run(() => pump.RunAsync(sessionEnd), CancellationToken.None);
        var leftCleanly = false;
        try
        {
            await foreach (var request in requests.ReadAllAsync(sessionEnd.Token))
            {
                coordinator.Touch(member);
                switch (request.RequestCase)
                {
                    case SubscribeRequest.RequestOneofCase.Commit:
                        var result = await coordinator.CommitAsync(member.Id, request.Commit.Commits, token);
                        control.Writer.TryWrite(new SubscribeResponse { CommitResult = result });
                        member.Wake();
                        break;
                    case SubscribeRequest.RequestOneofCase.Heartbeat:
                        break;
                    case SubscribeRequest.RequestOneofCase.Release:
                        await coordinator.ReleaseAsync(member, request.Release.Shards, token);
                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, "A session joins once; send commits and heartbeats after that."));
                }
            }
            // The client completed its requests: a clean leave.
            await coordinator.LeaveAsync(member.Id, token);
            leftCleanly = true;
        }
        catch (OperationCanceledException) when (sessionEnd.IsCancellationRequested && !token.IsCancellationRequested)
        {
            throw new RpcException(pump.Failure ?? new Status(StatusCode.Unavailable,
                member.Session != session ? "A newer session of this member took over."
                : groups.ShuttingDown ? "The broker is shutting down; join again (another broker takes the group)."
                : groups.Find(coordinator.Group) != coordinator ? "The group stopped running on this broker (it may run on another one now); join again."
                : "The member missed its heartbeats for longer than its session timeout; join again."));
        }
        finally
        {
            if (!leftCleanly)
            {
                // What the session was sent and did not commit goes out again.
                coordinator.Detach(member, session);
            }
            await sessionEnd.CancelAsync();
            await pumping;
        }
    }
}
