using EventStream.Grpc;
using EventStream.Protocol.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The methods of <c>eventstream.v1.Consumer</c>.</summary>
public static class ConsumerMethods
{
    /// <summary>The service as protobuf describes it.</summary>
    public static ServiceDescriptor Service { get; } = ConsumerReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Consumer");

    public static Method<SubscribeRequest, SubscribeResponse> Subscribe { get; } = MethodFactory.Create<SubscribeRequest, SubscribeResponse>(Service, nameof(Subscribe));
    public static Method<PollRequest, PollResponse> Poll { get; } = MethodFactory.Create<PollRequest, PollResponse>(Service, nameof(Poll));
    public static Method<CommitRequest, CommitResponse> Commit { get; } = MethodFactory.Create<CommitRequest, CommitResponse>(Service, nameof(Commit));
    public static Method<LeaveRequest, LeaveResponse> Leave { get; } = MethodFactory.Create<LeaveRequest, LeaveResponse>(Service, nameof(Leave));
}
