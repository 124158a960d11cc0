using System.Threading.Channels;
using EventStream.Broker.Consuming;
using EventStream.Broker.Producing;
using EventStream.Broker.Security;
using EventStream.Broker.Storage;
using EventStream.Broker.Telemetry;
using EventStream.Broker.Topics;
using EventStream.Broker.Transport;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Producer: validates batches and acknowledges them once committed.</summary>
internal sealed class ProducerService(
    TopicRegistry topics, ClusterSettings cluster, EventWriter writer, CallFailures failures, IOptions<ProduceOptions> options,
    IOptions<GrpcLimits> limits, IHostApplicationLifetime lifetime, CallAccess access, BrokerMetrics metrics) : Producer.ProducerBase
{
    // What one event may take of a delivered message: an event past it could never be delivered.
    private readonly int _maxDeliveredEventBytes = DeliveryLimit.EventBytesFor(limits.Value.MaxSendMessageSize);
    private readonly TimeSpan _idleStreamTimeout = limits.Value.IdleStreamTimeout;

    [Requires(AclOperation.Produce, AclResourceType.Topic, "topic")]
    public override async Task<ProduceResponse> Produce(ProduceRequest request, ServerCallContext context)
    {
        var (batch, committed) = await QueueAsync(request, OrderKey(request, context), context.CancellationToken);
        return Respond(batch, await committed);
    }

    /// <summary>
    /// Batches of one stream are queued one after another, so they commit in the order sent; only
    /// the waits for their commits overlap. Answers go out as commits finish, from one writer.
    /// When the broker begins to stop, the stream takes no more batches, answers those under way
    /// and ends with UNAVAILABLE, so the producer sends the rest through another broker.
    /// A batch to a topic the caller may not produce to is answered PERMISSION_DENIED in the stream.
    /// </summary>
    [CheckedInHandler(AclOperation.Produce, AclResourceType.Topic)]
    public override async Task ProduceStream(IAsyncStreamReader<ProduceStreamRequest> requests, IServerStreamWriter<ProduceStreamResponse> responses, ServerCallContext context)
    {
        using var inFlight = new SemaphoreSlim(options.Value.MaxStreamInFlight);
        var answers = Channel.CreateUnbounded<ProduceStreamResponse>(new UnboundedChannelOptions { SingleReader = true });
        var sending = SendAnswersAsync(answers.Reader, responses, context.CancellationToken);
        var pending = new List<Task>();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (await NextAsync(requests, idle, context.CancellationToken))
            {
                var request = requests.Current;
                await inFlight.WaitAsync(context.CancellationToken);
                var batch = request.Batch ?? new ProduceRequest();
                Task<ProduceResponse> answer;
                try
                {
                    await access.DemandAsync(context, AclOperation.Produce, AclResourceType.Topic, batch.Topic);
                    var (queued, committed) = await QueueAsync(batch, OrderKey(batch, context), context.CancellationToken);
                    answer = RespondWhenCommittedAsync(queued, committed);
                }
                catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
                {
                    answer = Task.FromException<ProduceResponse>(e);
                }
                pending.Add(AnswerAsync(request.RequestId, answer, answers.Writer, inFlight, context.Method));
                pending.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(pending);
            if (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
            {
                context.Status = new Status(StatusCode.Unavailable, "The broker is shutting down; send the remaining batches through another broker.");
            }
            else if (idle.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
            {
                context.Status = new Status(StatusCode.OK,
                    $"Closed after {_idleStreamTimeout.TotalSeconds:0.###} s without a request (EventStream:Grpc:IdleStreamTimeout).");
            }
        }
        finally
        {
            answers.Writer.TryComplete();
        }
        await sending;
    }

    /// <summary>
    /// Reads the stream's next request; false at its end, or once it has been idle for the idle
    /// stream timeout (the batches under way are still answered).
    /// </summary>
    private async Task<bool> NextAsync(IAsyncStreamReader<ProduceStreamRequest> requests, CancellationTokenSource idle, CancellationToken callEnded)
    {
        idle.CancelAfter(_idleStreamTimeout);
        try
        {
            return await requests.MoveNext(idle.Token);
        }
        catch (OperationCanceledException) when (!callEnded.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Validates a batch and queues it for its writer; the returned task completes at commit.</summary>
    private async Task<(PendingBatch Batch, Task<BatchOutcome> Committed)> QueueAsync(ProduceRequest request, string orderKey, CancellationToken cancellationToken)
    {
        TopicInfo? topic = null;
        PendingBatch batch;
        try
        {
            topic = await topics.ResolveForProduceAsync(request.Topic, cancellationToken);
            var shardCount = await cluster.GetShardCountAsync(cancellationToken);
            batch = ProduceRequestReader.Read(request, topic, shardCount, options.Value, _maxDeliveredEventBytes);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.Rejected(topic?.Name, (CallFailures.KnownStatus(e)?.StatusCode ?? StatusCode.Internal).ToString());
            throw;
        }
        // Not cancellable once queued: the commit may already be under way.
        var committed = writer.WriteAsync(batch, orderKey);
        return (batch, BrokerTracing.StartProduce(topic.Name, request.Events) is { } activity ? TracedAsync(activity, committed) : committed);
    }

    /// <summary>Ends a batch's span at its commit, marked as an error when it failed.</summary>
    private static async Task<BatchOutcome> TracedAsync(System.Diagnostics.Activity activity, Task<BatchOutcome> committed)
    {
        using (activity)
        {
            try
            {
                return await committed;
            }
            catch (Exception e)
            {
                activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
                throw;
            }
        }
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

    private static async Task<ProduceResponse> RespondWhenCommittedAsync(PendingBatch batch, Task<BatchOutcome> committed) =>
        Respond(batch, await committed);

    /// <summary>Waits for a batch's outcome and hands its answer to the stream's writer.</summary>
    private async Task AnswerAsync(long requestId, Task<ProduceResponse> produce, ChannelWriter<ProduceStreamResponse> answers, SemaphoreSlim inFlight, string method)
    {
        var answer = new ProduceStreamResponse { RequestId = requestId };
        try
        {
            answer.Response = await produce;
        }
        catch (Exception e)
        {
            var status = failures.ToStatus(e, method);
            answer.Error = new BatchError { Code = (int)status.StatusCode, Message = status.Detail };
        }
        finally
        {
            inFlight.Release();
        }
        answers.TryWrite(answer);
    }

    private static async Task SendAnswersAsync(ChannelReader<ProduceStreamResponse> answers, IServerStreamWriter<ProduceStreamResponse> responses, CancellationToken cancellationToken)
    {
        await foreach (var answer in answers.ReadAllAsync(cancellationToken))
        {
            await responses.WriteAsync(answer, cancellationToken);
        }
    }

    private static string OrderKey(ProduceRequest request, ServerCallContext context) =>
        request.ProducerId.Length > 0 ? request.ProducerId : context.GetHttpContext().Connection.Id;
}
