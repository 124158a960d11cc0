using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Broker.Validation;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Admin: topics and consumer groups.</summary>
internal sealed class AdminService(TopicRegistry topics, ClusterSettings cluster, GroupAdmin groups) : Admin.AdminBase
{
    public override async Task<Topic> CreateTopic(CreateTopicRequest request, ServerCallContext context)
    {
        TopicNames.Validate(request.Name);
        TimeSpan? retention = request.Retention is { } r
            ? RequestRules.Duration("retention", r, TimeSpan.FromTicks(1), topics.Options.MaxRetention)
            : null;
        RequestRules.Text("description", request.Description, TopicNames.MaxDescriptionLength);
        return ToMessage(await topics.CreateAsync(request.Name, retention, request.Description, context.CancellationToken));
    }

    public override async Task<ListTopicsResponse> ListTopics(ListTopicsRequest request, ServerCallContext context)
    {
        RequestRules.Text("prefix", request.Prefix, RequestRules.MaxNameLength);
        var response = new ListTopicsResponse();
        response.Topics.Add((await topics.ListAsync(request.Prefix, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    public override async Task<TopicDescription> DescribeTopic(DescribeTopicRequest request, ServerCallContext context)
    {
        TopicNames.Validate(request.Name);
        var topic = await topics.FindAsync(request.Name, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{request.Name}' does not exist."));
        var (events, bytes) = await topics.EstimateSizeAsync(topic, context.CancellationToken);
        var (oldest, newest) = await topics.TimeRangeAsync(topic, context.CancellationToken);
        return new TopicDescription
        {
            Topic = ToMessage(topic),
            ShardCount = await cluster.GetShardCountAsync(context.CancellationToken),
            ApproximateEventCount = events,
            ApproximateSizeBytes = bytes,
            OldestEventTime = oldest is { } o ? Timestamp.FromDateTime(o) : null,
            NewestEventTime = newest is { } n ? Timestamp.FromDateTime(n) : null,
        };
    }

    public override async Task<DeleteTopicResponse> DeleteTopic(DeleteTopicRequest request, ServerCallContext context)
    {
        await topics.DeleteAsync(request.Name, context.CancellationToken);
        return new DeleteTopicResponse();
    }

    public override Task<ListGroupsResponse> ListGroups(ListGroupsRequest request, ServerCallContext context) =>
        groups.ListAsync(context.CancellationToken);

    public override Task<GroupDescription> DescribeGroup(DescribeGroupRequest request, ServerCallContext context) =>
        groups.DescribeAsync(request.Group, context.CancellationToken);

    public override async Task<DeleteGroupResponse> DeleteGroup(DeleteGroupRequest request, ServerCallContext context)
    {
        await groups.DeleteAsync(request.Group, context.CancellationToken);
        return new DeleteGroupResponse();
    }

    public override async Task<ResetGroupResponse> ResetGroup(ResetGroupRequest request, ServerCallContext context)
    {
        await groups.ResetAsync(request.Group, request.Start, context.CancellationToken);
        return new ResetGroupResponse();
    }

    private static Topic ToMessage(TopicInfo topic) => new()
    {
        Name = topic.Name,
        Retention = Duration.FromTimeSpan(topic.Retention),
        Description = topic.Description,
        CreatedTime = Timestamp.FromDateTime(DateTime.SpecifyKind(topic.CreatedAt, DateTimeKind.Utc)),
    };
}
