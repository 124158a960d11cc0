using EventStream.Broker.Consuming;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Grpc.Server;
using EventStream.Protocol.Methods;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Admin: topics and consumer groups.</summary>
internal sealed class AdminService(TopicRegistry topics, ClusterSettings cluster, GroupAdmin groups) : IGrpcService
{
    public IEnumerable<ServiceDescriptor> Services => [AdminMethods.Service];

    public void Bind(GrpcServiceBinder binder)
    {
        binder.Unary(AdminMethods.CreateTopic, CreateTopicAsync);
        binder.Unary(AdminMethods.ListTopics, ListTopicsAsync);
        binder.Unary(AdminMethods.DescribeTopic, DescribeTopicAsync);
        binder.Unary(AdminMethods.DeleteTopic, DeleteTopicAsync);
        binder.Unary(AdminMethods.ListGroups, (_, context) => groups.ListAsync(context.CancellationToken));
        binder.Unary(AdminMethods.DescribeGroup, (request, context) => groups.DescribeAsync(request.Group, context.CancellationToken));
        binder.Unary(AdminMethods.DeleteGroup, async (request, context) =>
        {
            await groups.DeleteAsync(request.Group, context.CancellationToken);
            return new DeleteGroupResponse();
        });
        binder.Unary(AdminMethods.ResetGroup, async (request, context) =>
        {
            await groups.ResetAsync(request.Group, request.Start, context.CancellationToken);
            return new ResetGroupResponse();
        });
    }

    private async Task<Topic> CreateTopicAsync(CreateTopicRequest request, ServerCallContext context)
    {
        TimeSpan? retention = request.Retention?.ToTimeSpan();
        return ToMessage(await topics.CreateAsync(request.Name, retention, request.Description, context.CancellationToken));
    }

    private async Task<ListTopicsResponse> ListTopicsAsync(ListTopicsRequest request, ServerCallContext context)
    {
        var response = new ListTopicsResponse();
        response.Topics.Add((await topics.ListAsync(request.Prefix, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    private async Task<TopicDescription> DescribeTopicAsync(DescribeTopicRequest request, ServerCallContext context)
    {
        TopicNames.Validate(request.Name);
        var topic = await topics.FindAsync(request.Name, context.CancellationToken)
            ?? throw new EventStream.Grpc.GrpcException(EventStream.Grpc.GrpcStatusCode.NotFound, $"Topic '{request.Name}' does not exist.");
        var (events, bytes) = await topics.EstimateSizeAsync(topic, context.CancellationToken);
        return new TopicDescription
        {
            Topic = ToMessage(topic),
            ShardCount = await cluster.GetShardCountAsync(context.CancellationToken),
            ApproximateEventCount = events,
            ApproximateSizeBytes = bytes,
        };
    }

    private async Task<DeleteTopicResponse> DeleteTopicAsync(DeleteTopicRequest request, ServerCallContext context)
    {
        await topics.DeleteAsync(request.Name, context.CancellationToken);
        return new DeleteTopicResponse();
    }

    private static Topic ToMessage(TopicInfo topic) => new()
    {
        Name = topic.Name,
        Retention = Duration.FromTimeSpan(topic.Retention),
        Description = topic.Description,
        CreatedTime = Timestamp.FromDateTime(DateTime.SpecifyKind(topic.CreatedAt, DateTimeKind.Utc)),
    };
}
