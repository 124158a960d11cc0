using EventStream.Broker.Consuming;
using EventStream.Broker.Reading;
using EventStream.Broker.Security;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Broker.Transport;
using EventStream.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Reader: reads a topic without a consumer group (see reader.proto).</summary>
internal sealed class ReaderService(
    DatabaseEndpoint database, TopicRegistry topics, ClusterSettings cluster, CommitListener listener, IOptions<GrpcLimits> limits, TimeProvider time)
    : Reader.ReaderBase
{
    private const int MaxEventsPerMessage = 500;
    private readonly int _eventBytes = DeliveryLimit.EventBytesFor(limits.Value.MaxSendMessageSize);

    [Requires(AclOperation.Consume, AclResourceType.Topic, "topic")]
    public override async Task Read(ReadRequest request, IServerStreamWriter<ReadResponse> responses, ServerCallContext context)
    {
        var token = context.CancellationToken;
        var plan = await ReadPlan.ValidateAsync(request, await cluster.GetShardCountAsync(token), async name =>
            await topics.FindAsync(name, token) ?? throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{name}' does not exist.")));
        var call = new ReadCall(plan, database.DataSource, listener, new DeliveryLimit(MaxEventsPerMessage, _eventBytes), time, responses);
        await call.RunAsync(token);
    }
}
