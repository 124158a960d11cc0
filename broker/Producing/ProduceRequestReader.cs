using System.Text;
using System.Text.Json;
using EventStream.Broker.Topics;
using EventStream.Broker.Validation;
using Grpc.Core;
using EventStream.Protocol.Sharding;
using EventStream.Protocol.V1;
using Google.Protobuf;

namespace EventStream.Broker.Producing;

/// <summary>
/// Validates a produce request and turns its events into rows with their shards. Every field is
/// checked here, before the batch joins a shared transaction, so PostgreSQL never refuses a row.
/// </summary>
internal static class ProduceRequestReader
{
    private const int MaxProducerIdLength = 256;
    private const int MaxContentTypeLength = 256;
    private const string JsonContentType = "application/json";
    private const string TextContentType = "text/plain; charset=utf-8";

    // An event's message carries, besides its key, payload, headers and content type, its topic,
    // ids, times and position, and a few bytes of framing per header: within this, per event.
    private const int DeliveredOverheadBytes = 256;
    private const int DeliveredBytesPerHeader = 16;

    /// <param name="maxDeliveredEventBytes">What one event may take of a delivered message: an event past it could never be delivered.</param>
    public static PendingBatch Read(ProduceRequest request, TopicInfo topic, int shardCount, ProduceOptions options, int maxDeliveredEventBytes)
    {
        if (request.Events.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The batch has no events."));
        }
        if (request.Events.Count > options.MaxBatchEvents)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The batch has {request.Events.Count} events; at most {options.MaxBatchEvents} are allowed per request (EventStream:Produce:MaxBatchEvents). Split it."));
        }
        string? producerId = null;
        if (request.ProducerId.Length > 0)
        {
            RequestRules.Text("producer_id", request.ProducerId, MaxProducerIdLength);
            if (request.FirstSequence < 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "first_sequence must not be negative."));
            }
            if (request.FirstSequence > long.MaxValue - request.Events.Count)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "first_sequence is too large: the batch's sequences would pass the largest 64-bit integer."));
            }
            producerId = request.ProducerId;
        }

        // Keyless events of a batch share one shard. For idempotent batches it is derived from the
        // sequence, so a retry lands where the first attempt did.
        var keylessShard = producerId is null
            ? Random.Shared.Next(shardCount)
            : ShardHash.ShardOf($"{producerId}/{request.FirstSequence}", shardCount);
        var maxDelivered = maxDeliveredEventBytes - DeliveredOverheadBytes - Encoding.UTF8.GetByteCount(topic.Name);
        var rows = new EventRow[request.Events.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = ReadEvent(request.Events[i], i, keylessShard, shardCount, options.MaxEventBytes, maxDelivered);
        }
        return new PendingBatch(topic, rows, producerId, request.FirstSequence);
    }

    private static EventRow ReadEvent(EventData data, int index, int keylessShard, int shardCount, int maxEventBytes, int maxDeliveredBytes)
    {
        ReadOnlyMemory<byte>? key = null;
        switch (data.KeyCase)
        {
            case EventData.KeyOneofCase.KeyBytes:
                key = data.KeyBytes.Memory;
                break;
            case EventData.KeyOneofCase.KeyText:
                RequestRules.CheckCharacters($"events[{index}].key_text", data.KeyText, allowNul: true);
                key = Encoding.UTF8.GetBytes(data.KeyText);
                break;
        }
        RequestRules.Text($"events[{index}].content_type", data.ContentType, MaxContentTypeLength);
        var contentType = data.ContentType.Length > 0 ? data.ContentType : null;
        ReadOnlyMemory<byte> payload;
        switch (data.PayloadCase)
        {
            case EventData.PayloadOneofCase.Text:
                RequestRules.CheckCharacters($"events[{index}].text", data.Text, allowNul: true);
                payload = Encoding.UTF8.GetBytes(data.Text);
                contentType ??= TextContentType;
                break;
            case EventData.PayloadOneofCase.Json:
                JsonPayloadRules.Check($"events[{index}].json", data.Json);
                payload = Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(data.Json));
                contentType ??= JsonContentType;
                break;
            default:
                payload = data.Data.Memory;
                break;
        }

        string? headers = null;
        var size = (key?.Length ?? 0) + payload.Length + (contentType is null ? 0 : Encoding.UTF8.GetByteCount(contentType));
        if (data.Headers.Count > 0)
        {
            foreach (var (name, value) in data.Headers)
            {
                if (name.Length == 0)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"Event {index} has a header with an empty name."));
                }
                RequestRules.CheckCharacters($"events[{index}].headers name", name);
                RequestRules.CheckCharacters($"events[{index}].headers['{RequestRules.Echo(name)}']", value);
            }
            headers = JsonSerializer.Serialize(data.Headers);
            size += Encoding.UTF8.GetByteCount(headers);
        }
        if (size > maxEventBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Event {index} has {size} bytes of key, payload, headers and content type; the limit is {maxEventBytes} (EventStream:Produce:MaxEventBytes)."));
        }
        if (size + data.Headers.Count * DeliveredBytesPerHeader > maxDeliveredBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Event {index} has {size} bytes of key, payload, headers and content type: delivered, it would not fit the broker's message limit (EventStream:Grpc:MaxSendMessageSize)."));
        }

        var shard = key is { } k ? ShardHash.ShardOf(k.Span, shardCount) : keylessShard;
        DateTime? producerTime = data.ProducerTime is { } t ? RequestRules.Timestamp($"events[{index}].producer_time", t) : null;
        return new EventRow(shard, key, payload, headers, producerTime, contentType);
    }
}
