using EventStream.Broker.Producing;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Grpc;
using EventStream.Grpc.Server;
using EventStream.Protocol.Methods;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Producer: validates batches and acknowledges them once committed.</summary>
internal sealed class ProducerService(TopicRegistry topics, ClusterSettings cluster, EventWriter writer, IOptions<ProduceOptions> options) : IGrpcService
{
    public IEnumerable<ServiceDescriptor> Services => [ProducerMethods.Service];

    public void Bind(GrpcServiceBinder binder)
    {
        binder.Unary(ProducerMethods.Produce, (request, context) => ProduceAsync(request, OrderKey(request, context), context.CancellationToken));
        binder.DuplexStreaming(ProducerMethods.ProduceStream, ProduceStreamAsync);
    }

    private async Task<ProduceResponse> ProduceAsync(ProduceRequest request, string orderKey, CancellationToken cancellationToken)
    {
        var (batch, committed) = await QueueAsync(request, orderKey, cancellationToken);
        return Respond(batch, await committed);
    }

    /// <summary>Validates a batch and queues it for its writer; the returned task completes at commit.</summary>
    private async Task<(PendingBatch Batch, Task<BatchOutcome> Committed)> QueueAsync(ProduceRequest request, string orderKey, CancellationToken cancellationToken)
    {
        var topic = await topics.ResolveForProduceAsync(request.Topic, cancellationToken);
        var shardCount = await cluster.GetShardCountAsync(cancellationToken);
        var batch = ProduceRequestReader.Read(request, topic, shardCount, options.Value);
        // Not cancellable once queued: the commit may already be under way.
        return (batch, writer.WriteAsync(batch, orderKey));
    }

    private static ProduceResponse Respond(PendingBatch batch, BatchOutcome outcome)
    {
        var response = new ProduceResponse
        {
            FirstEventId = outcome.FirstEventId,
            IngestTime = Timestamp.FromDateTime(DateTime.SpecifyKind(outcome.IngestTime, DateTimeKind.Utc)),
            Duplicate = outcome.Duplicate,
        };
        response.Shards.Capacity = batch.Events.Count;
        foreach (var row in batch.Events)
        {
            response.Shards.Add(row.Shard);
        }
        return response;
    }

    private async Task ProduceStreamAsync(RequestStream<ProduceStreamRequest> requests, ResponseStream<ProduceStreamResponse> responses, ServerCallContext context)
    {
        using var inFlight = new SemaphoreSlim(options.Value.MaxStreamInFlight);
        var pending = new List<Task>();
        var connectionKey = context.HttpContext.Connection.Id;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            await inFlight.WaitAsync(context.CancellationToken);
            var batch = request.Batch ?? new ProduceRequest();
            Task<ProduceResponse> answer;
            try
            {
                // Queued one after another, so a stream's batches commit in the order sent;
                // only the waits for their commits overlap.
                var (queued, committed) = await QueueAsync(batch, batch.ProducerId.Length > 0 ? batch.ProducerId : connectionKey, context.CancellationToken);
                answer = RespondWhenCommittedAsync(queued, committed);
            }
            catch (GrpcException e)
            {
                answer = Task.FromException<ProduceResponse>(e);
            }
            pending.Add(AnswerAsync(request.RequestId, answer, responses, inFlight, context.CancellationToken));
            pending.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(pending);
    }

    private static async Task<ProduceResponse> RespondWhenCommittedAsync(PendingBatch batch, Task<BatchOutcome> committed) =>
        Respond(batch, await committed);

    private static async Task AnswerAsync(long requestId, Task<ProduceResponse> produce, ResponseStream<ProduceStreamResponse> responses, SemaphoreSlim inFlight, CancellationToken cancellationToken)
    {
        var answer = new ProduceStreamResponse { RequestId = requestId };
        try
        {
            answer.Response = await produce;
        }
        catch (GrpcException e)
        {
            answer.Error = new BatchError { Code = (int)e.StatusCode, Message = e.Status.Detail };
        }
        finally
        {
            inFlight.Release();
        }
        await responses.WriteAsync(answer, cancellationToken);
    }

    private static string OrderKey(ProduceRequest request, ServerCallContext context) =>
        request.ProducerId.Length > 0 ? request.ProducerId : context.HttpContext.Connection.Id;
}
