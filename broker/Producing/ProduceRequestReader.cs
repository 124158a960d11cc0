using System.Text;
using System.Text.Json;
using EventStream.Broker.Topics;
using Grpc.Core;
using EventStream.Protocol.Sharding;
using EventStream.Protocol.V1;
using Google.Protobuf;

namespace EventStream.Broker.Producing;

/// <summary>Validates a produce request and turns its events into rows with their shards.</summary>
internal static class ProduceRequestReader
{
    private const int MaxProducerIdLength = 256;
    private const string JsonContentType = "application/json";
    private const string TextContentType = "text/plain; charset=utf-8";

    public static PendingBatch Read(ProduceRequest request, TopicInfo topic, int shardCount, ProduceOptions options)
    {
        if (request.Events.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The batch has no events."));
        }
        if (request.Events.Count > options.MaxBatchEvents)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The batch has {request.Events.Count} events; at most {options.MaxBatchEvents} are allowed per request. Split it."));
        }
        string? producerId = null;
        if (request.ProducerId.Length > 0)
        {
            if (request.ProducerId.Length > MaxProducerIdLength)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"producer_id may have at most {MaxProducerIdLength} characters."));
            }
            if (request.FirstSequence < 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "first_sequence must not be negative."));
            }
            producerId = request.ProducerId;
        }

        // Keyless events of a batch share one shard. For idempotent batches it is derived from the
        // sequence, so a retry lands where the first attempt did.
        var keylessShard = producerId is null
            ? Random.Shared.Next(shardCount)
            : ShardHash.ShardOf($"{producerId}/{request.FirstSequence}", shardCount);
        var rows = new EventRow[request.Events.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = ReadEvent(request.Events[i], i, keylessShard, shardCount, options.MaxEventBytes);
        }
        return new PendingBatch(topic, rows, producerId, request.FirstSequence);
    }

    private static EventRow ReadEvent(EventData data, int index, int keylessShard, int shardCount, int maxEventBytes)
    {
        ReadOnlyMemory<byte>? key = data.KeyCase switch
        {
            EventData.KeyOneofCase.KeyBytes => data.KeyBytes.Memory,
            EventData.KeyOneofCase.KeyText => Encoding.UTF8.GetBytes(data.KeyText),
            _ => null,
        };
        var contentType = data.ContentType.Length > 0 ? data.ContentType : null;
        ReadOnlyMemory<byte> payload;
        switch (data.PayloadCase)
        {
            case EventData.PayloadOneofCase.Text:
                payload = Encoding.UTF8.GetBytes(data.Text);
                contentType ??= TextContentType;
                break;
            case EventData.PayloadOneofCase.Json:
                payload = Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(data.Json));
                contentType ??= JsonContentType;
                break;
            default:
                payload = data.Data.Memory;
                break;
        }

        string? headers = null;
        var size = (key?.Length ?? 0) + payload.Length;
        if (data.Headers.Count > 0)
        {
            foreach (var name in data.Headers.Keys)
            {
                if (name.Length == 0)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"Event {index} has a header with an empty name."));
                }
            }
            headers = JsonSerializer.Serialize(data.Headers);
            size += headers.Length;
        }
        if (size > maxEventBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Event {index} has {size} bytes of key, payload and headers; the limit is {maxEventBytes}."));
        }

        var shard = key is { } k ? ShardHash.ShardOf(k.Span, shardCount) : keylessShard;
        DateTime? producerTime = data.ProducerTime is { } t ? t.ToDateTime() : null;
        return new EventRow(shard, key, payload, headers, producerTime, contentType);
    }
}
