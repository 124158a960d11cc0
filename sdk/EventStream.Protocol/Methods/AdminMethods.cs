using EventStream.Grpc;
using EventStream.Protocol.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The methods of <c>eventstream.v1.Admin</c>.</summary>
public static class AdminMethods
{
    /// <summary>The service as protobuf describes it.</summary>
    public static ServiceDescriptor Service { get; } = AdminReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Admin");

    public static Method<CreateTopicRequest, Topic> CreateTopic { get; } = MethodFactory.Create<CreateTopicRequest, Topic>(Service, nameof(CreateTopic));
    public static Method<ListTopicsRequest, ListTopicsResponse> ListTopics { get; } = MethodFactory.Create<ListTopicsRequest, ListTopicsResponse>(Service, nameof(ListTopics));
    public static Method<DescribeTopicRequest, TopicDescription> DescribeTopic { get; } = MethodFactory.Create<DescribeTopicRequest, TopicDescription>(Service, nameof(DescribeTopic));
    public static Method<DeleteTopicRequest, DeleteTopicResponse> DeleteTopic { get; } = MethodFactory.Create<DeleteTopicRequest, DeleteTopicResponse>(Service, nameof(DeleteTopic));
    public static Method<ListGroupsRequest, ListGroupsResponse> ListGroups { get; } = MethodFactory.Create<ListGroupsRequest, ListGroupsResponse>(Service, nameof(ListGroups));
    public static Method<DescribeGroupRequest, GroupDescription> DescribeGroup { get; } = MethodFactory.Create<DescribeGroupRequest, GroupDescription>(Service, nameof(DescribeGroup));
    public static Method<DeleteGroupRequest, DeleteGroupResponse> DeleteGroup { get; } = MethodFactory.Create<DeleteGroupRequest, DeleteGroupResponse>(Service, nameof(DeleteGroup));
    public static Method<ResetGroupRequest, ResetGroupResponse> ResetGroup { get; } = MethodFactory.Create<ResetGroupRequest, ResetGroupResponse>(Service, nameof(ResetGroup));
}
