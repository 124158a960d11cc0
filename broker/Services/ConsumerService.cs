using System.Diagnostics;
using EventStream.Broker.Consuming;
using EventStream.Broker.Security;
using EventStream.Broker.Storage;
using EventStream.Broker.Transport;
using EventStream.Broker.Validation;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Consumer: Subscribe sessions for SDKs, and Poll/Commit/Leave for scripts.</summary>
internal sealed class ConsumerService(
    ConsumerGroups groups, GroupStore store, ClusterSettings cluster, IOptions<GrpcLimits> limits, ILogger<ConsumerService> logger) : Consumer.ConsumerBase
{
    // A failed commit's message lists this many of its rejections, so it stays short.
    private const int MaxRejectionsShown = 5;
    private const int MaxMemberIdLength = 256;
    private const int DefaultPollEvents = 100;
    private const int MaxPollEvents = 10_000;
    private static readonly TimeSpan DefaultPollWait = TimeSpan.FromSeconds(2);
    private readonly int _maxMessageBytes = limits.Value.MaxSendMessageSize;
    private readonly TimeSpan _idleStreamTimeout = limits.Value.IdleStreamTimeout;
    // What events may take of one message (pushed batch or Poll answer), below the send limit.
    private readonly int _eventBytes = DeliveryLimit.EventBytesFor(limits.Value.MaxSendMessageSize);

    [Requires(AclOperation.Consume, AclResourceType.Group, "join.group")]
    [Requires(AclOperation.Consume, AclResourceType.Topic, "join.topics", AllowsPatterns = true)]
    public override async Task Subscribe(IAsyncStreamReader<SubscribeRequest> requests, IServerStreamWriter<SubscribeResponse> responses, ServerCallContext context)
    {
        var token = context.CancellationToken;
        var first = await FirstRequestAsync(requests, token);
        if (first?.RequestCase != SubscribeRequest.RequestOneofCase.Join)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Start a Subscribe session with a join request."));
        }
        var (coordinator, member, format) = await JoinAsync(first.Join, streaming: true, token);
        var session = new SubscribeSession(groups, coordinator, member, format,
            new DeliveryLimit(groups.Options.MaxBatchEvents * 4, _eventBytes), _maxMessageBytes, logger);
        await session.RunAsync(requests, responses, token);
    }

    [Requires(AclOperation.Consume, AclResourceType.Group, "subscription.group")]
    [Requires(AclOperation.Consume, AclResourceType.Topic, "subscription.topics", AllowsPatterns = true)]
    public override async Task<PollResponse> Poll(PollRequest request, ServerCallContext context)
    {
        var token = context.CancellationToken;
        var maxEvents = request.MaxEvents <= 0 ? DefaultPollEvents : Math.Min(request.MaxEvents, MaxPollEvents);
        var wait = request.MaxWait is null ? DefaultPollWait
            : RequestRules.Duration("max_wait", request.MaxWait, TimeSpan.Zero, TimeSpan.MaxValue);
        // Documented as capped, not refused.
        wait = wait > groups.Options.MaxPollWait ? groups.Options.MaxPollWait : wait;
        var (coordinator, member, format) = await JoinAsync(request.Subscription ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "Poll needs a subscription.")), streaming: false, token);
        await coordinator.BalanceAsync(member, token);

        var response = new PollResponse { MemberId = member.Id };
        response.Assigned.Add(coordinator.LeasesOf(member));
        // The answer is one message: its events get what the member id and leases leave.
        var limit = new DeliveryLimit(maxEvents, _eventBytes - response.CalculateSize());
        // Nothing is marked delivered for good: the next Poll answers again from the last commit.
        var batches = coordinator.PollEvents(member, limit, format);
        // A wake may be left over from before this call (an assignment, an earlier append): wait
        // on until events come or the wait is over, rather than answer empty at the first wake.
        var waiting = Stopwatch.StartNew();
        while (batches.Count == 0 && waiting.Elapsed < wait)
        {
            await member.WaitAsync(wait - waiting.Elapsed, token);
            batches = coordinator.PollEvents(member, limit, format);
        }
        foreach (var batch in batches)
        {
            response.Events.Add(batch.Events);
            response.Commits.Add(new ShardCommit { Shard = batch.Shard, Epoch = batch.Epoch, Position = batch.Events[^1].Position });
        }
        var size = batches.Count > 0 ? response.CalculateSize() : 0;
        if (size > _maxMessageBytes)
        {
            // Only a lone event too large for any message gets here (see DeliveryLimit).
            var e = batches[0].Events[0];
            GroupLog.MessageTooLarge(logger, coordinator.Group, member.Id, e.Shard, e.EventId, size, _maxMessageBytes);
            throw new RpcException(new Status(StatusCode.Internal,
                $"Event {e.EventId} of shard {e.Shard} takes {size} bytes with its answer, more than the broker's message limit of {_maxMessageBytes} bytes: it cannot be delivered."));
        }
        return response;
    }

    [Requires(AclOperation.Consume, AclResourceType.Group, "group")]
    public override async Task<CommitResponse> Commit(CommitRequest request, ServerCallContext context)
    {
        ConsumerGroups.ValidateName(request.Group);
        ValidateMemberId(request.MemberId, required: true);
        store.CheckCommitEntries(request.Commits.Count);
        var token = context.CancellationToken;
        // Without the group's coordinator here, commit straight to the database, unless another broker runs
        // the group: its coordinator must learn of the commit to release the events.
        await groups.ThrowIfRunElsewhereAsync(request.Group, token);
        var response = groups.Find(request.Group) is { } coordinator
            ? await coordinator.CommitAsync(request.MemberId, request.Commits, token)
            : await store.CommitAllAsync(
                request.Group, request.MemberId, request.Commits, await cluster.GetShardCountAsync(token), committed: null, token);
        var rejected = response.Results.Where(r => r.Code != (int)StatusCode.OK).ToList();
        if (rejected.Count > 0)
        {
            var code = rejected.All(r => r.Code == (int)StatusCode.InvalidArgument) ? StatusCode.InvalidArgument : StatusCode.FailedPrecondition;
            var shown = string.Join(" ", rejected.Take(MaxRejectionsShown).Select(r => r.Message));
            var more = rejected.Count > MaxRejectionsShown ? $" ({rejected.Count - MaxRejectionsShown} more commits were rejected.)" : "";
            throw new RpcException(new Status(code, shown + more));
        }
        return response;
    }

    [Requires(AclOperation.Consume, AclResourceType.Group, "group")]
    public override async Task<LeaveResponse> Leave(LeaveRequest request, ServerCallContext context)
    {
        ConsumerGroups.ValidateName(request.Group);
        ValidateMemberId(request.MemberId, required: true);
        await groups.ThrowIfRunElsewhereAsync(request.Group, context.CancellationToken);
        if (groups.Find(request.Group) is { } coordinator)
        {
            await coordinator.LeaveAsync(request.MemberId, context.CancellationToken);
        }
        else
        {
            await store.LeaveAsync(request.Group, request.MemberId, context.CancellationToken);
        }
        return new LeaveResponse();
    }

    private async Task<(GroupCoordinator Coordinator, ConnectedMember Member, PayloadFormat Format)> JoinAsync(Subscription subscription, bool streaming, CancellationToken cancellationToken)
    {
        ConsumerGroups.ValidateName(subscription.Group);
        ValidateMemberId(subscription.MemberId, required: false);
        var topics = TopicPatterns.Parse(subscription.Topics);
        var options = groups.Options;
        var session = subscription.SessionTimeout is null ? options.DefaultSessionTimeout
            : RequestRules.Duration("session_timeout", subscription.SessionTimeout, options.MinSessionTimeout, options.MaxSessionTimeout);
        if (!System.Enum.IsDefined(subscription.PayloadFormat))
        {
            throw RequestRules.Invalid("payload_format", $"{(int)subscription.PayloadFormat} is not a payload format");
        }
        var startFrom = StartPoints.From(subscription.Start);
        var coordinator = await groups.JoinAsync(subscription.Group, topics, startFrom, cancellationToken);
        var memberId = subscription.MemberId.Length > 0 ? subscription.MemberId : Guid.NewGuid().ToString("N");
        if (!coordinator.HasRoomFor(memberId, options.MaxMembersPerGroup))
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"Group '{subscription.Group}' has {options.MaxMembersPerGroup} members, the most allowed (EventStream:Consume:MaxMembersPerGroup)."));
        }
        return (coordinator, coordinator.Attach(memberId, session, streaming, topics), subscription.PayloadFormat);
    }

    private static void ValidateMemberId(string memberId, bool required)
    {
        if ((required && memberId.Length == 0) || memberId.Length > MaxMemberIdLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"member_id must have 1 to {MaxMemberIdLength} characters."));
        }
        RequestRules.CheckCharacters("member_id", memberId);
    }

    /// <summary>The call's first request, or null when the client ends it first; it must come within the idle stream timeout.</summary>
    private async Task<SubscribeRequest?> FirstRequestAsync(IAsyncStreamReader<SubscribeRequest> requests, CancellationToken token)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(token);
        idle.CancelAfter(_idleStreamTimeout);
        try
        {
            return await requests.MoveNext(idle.Token) ? requests.Current : null;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"No join request within {_idleStreamTimeout.TotalSeconds:0.###} s (EventStream:Grpc:IdleStreamTimeout)."));
        }
    }
}
