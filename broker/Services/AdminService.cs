using EventStream.Broker.Consuming;
using EventStream.Broker.Security;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Broker.Validation;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Admin: topics and consumer groups.</summary>
internal sealed class AdminService(TopicRegistry topics, ClusterSettings cluster, GroupAdmin groups, CallAccess access) : Admin.AdminBase
{
    [Requires(AclOperation.Create, AclResourceType.Topic, "name")]
    public override async Task<Topic> CreateTopic(CreateTopicRequest request, ServerCallContext context)
    {
        TopicNames.Validate(request.Name);
        var retention = RetentionOf(request.Retention);
        RequestRules.Text("description", request.Description, TopicNames.MaxDescriptionLength);
        return ToMessage(await topics.CreateAsync(request.Name, retention, request.Description, context.CancellationToken));
    }

    [CheckedInHandler(AclOperation.Describe, AclResourceType.Topic)]
    public override async Task<ListTopicsResponse> ListTopics(ListTopicsRequest request, ServerCallContext context)
    {
        RequestRules.Text("prefix", request.Prefix, RequestRules.MaxNameLength);
        var response = new ListTopicsResponse();
        var listed = await topics.ListAsync(request.Prefix, context.CancellationToken);
        response.Topics.Add((await access.FilterAsync(context, listed, AclOperation.Describe, AclResourceType.Topic, t => t.Name)).Select(ToMessage));
        return response;
    }

    [Requires(AclOperation.Describe, AclResourceType.Topic, "name")]
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

    [Requires(AclOperation.Delete, AclResourceType.Topic, "name")]
    public override async Task<DeleteTopicResponse> DeleteTopic(DeleteTopicRequest request, ServerCallContext context)
    {
        await topics.DeleteAsync(request.Name, context.CancellationToken);
        return new DeleteTopicResponse();
    }

    [Requires(AclOperation.Alter, AclResourceType.Topic, "name")]
    public override async Task<Topic> AlterTopic(AlterTopicRequest request, ServerCallContext context)
    {
        TopicNames.Validate(request.Name);
        var retention = RetentionOf(request.Retention);
        string? description = null;
        if (request.HasDescription)
        {
            RequestRules.Text("description", request.Description, TopicNames.MaxDescriptionLength);
            description = request.Description;
        }
        return ToMessage(await topics.AlterAsync(request.Name, retention, description, context.CancellationToken));
    }

    [CheckedInHandler(AclOperation.Describe, AclResourceType.Group)]
    public override async Task<ListGroupsResponse> ListGroups(ListGroupsRequest request, ServerCallContext context)
    {
        var listed = await groups.ListAsync(context.CancellationToken);
        var response = new ListGroupsResponse();
        response.Groups.Add(await access.FilterAsync(context, listed.Groups, AclOperation.Describe, AclResourceType.Group, g => g.Group));
        return response;
    }

    [Requires(AclOperation.Describe, AclResourceType.Group, "group")]
    public override Task<GroupDescription> DescribeGroup(DescribeGroupRequest request, ServerCallContext context) =>
        groups.DescribeAsync(request.Group, context.CancellationToken);

    [Requires(AclOperation.Delete, AclResourceType.Group, "group")]
    public override async Task<DeleteGroupResponse> DeleteGroup(DeleteGroupRequest request, ServerCallContext context)
    {
        await groups.DeleteAsync(request.Group, context.CancellationToken);
        return new DeleteGroupResponse();
    }

    [Requires(AclOperation.Alter, AclResourceType.Group, "group")]
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

    /// <summary>A requested retention, checked (positive, normalized, at most the configured maximum); null when none was given.</summary>
    private TimeSpan? RetentionOf(Google.Protobuf.WellKnownTypes.Duration? requested) =>
        requested is null ? null : RequestRules.Duration("retention", requested, TimeSpan.FromTicks(1), topics.Options.MaxRetention);
}
