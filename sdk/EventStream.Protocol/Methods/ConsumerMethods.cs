using EventStream.Grpc;
using EventStream.Protocol.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Protocol.Methods;

/// <summary>The methods of <c>eventstream.v1.Consumer</c>.</summary>
public static class ConsumerMethods
{
    /// <summary>
    /// Trailer of an <c>UNAVAILABLE</c> status: the address of the broker that runs the consumer group
    /// (e.g. <c>http://10.0.0.5:7400</c>). Brokers sharing a database run each group on one of them;
    /// the others answer the group's calls this way, and clients reconnect to that address.
    /// </summary>
    public const string CoordinatorMetadataKey = "eventstream-coordinator";

    /// <summary>The service as protobuf describes it.</summary>
    public static ServiceDescriptor Service { get; } = ConsumerReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Consumer");

    public static Method<SubscribeRequest, SubscribeResponse> Subscribe { get; } = MethodFactory.Create<SubscribeRequest, SubscribeResponse>(Service, nameof(Subscribe));
    public static Method<PollRequest, PollResponse> Poll { get; } = MethodFactory.Create<PollRequest, PollResponse>(Service, nameof(Poll));
    public static Method<CommitRequest, CommitResponse> Commit { get; } = MethodFactory.Create<CommitRequest, CommitResponse>(Service, nameof(Commit));
    public static Method<LeaveRequest, LeaveResponse> Leave { get; } = MethodFactory.Create<LeaveRequest, LeaveResponse>(Service, nameof(Leave));
}
