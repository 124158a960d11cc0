using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Client.Producer;

/// <summary>Turns the SDK's types into protocol messages and back.</summary>
internal static class EventEncoder
{
    /// <summary>The event as sent: key and payload copied, so the caller may reuse its buffers.</summary>
    /// <param name="producerEvent">The event.</param>
    /// <param name="producerTime">Its producer time; messages only read it, so events may share one.</param>
    public static EventData Encode(ProducerEvent producerEvent, Timestamp producerTime)
    {
        var data = new EventData
        {
            Data = ByteString.CopyFrom(producerEvent.Payload.Span),
            ProducerTime = producerTime,
        };
        // A null byte[] converts to an empty ReadOnlyMemory, so an empty key means no key.
        if (producerEvent.Key is { IsEmpty: false } key)
        {
            data.KeyBytes = ByteString.CopyFrom(key.Span);
        }
        if (producerEvent.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                if (name is null || value is null)
                {
                    throw new ArgumentException("Header names and values must not be null.", nameof(producerEvent));
                }
                data.Headers[name] = value;
            }
        }
        if (!string.IsNullOrEmpty(producerEvent.ContentType))
        {
            data.ContentType = producerEvent.ContentType;
        }
        return data;
    }

    /// <summary>The bytes an event adds to a <see cref="ProduceRequest"/>: tag, length and message.</summary>
    public static int SizeInRequest(EventData data)
    {
        var size = data.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    public static ProduceRequest Request(string topic, ProducerBatch batch)
    {
        var request = new ProduceRequest { Topic = topic, ProducerId = batch.ProducerId, FirstSequence = batch.ProducerId.Length == 0 ? 0 : batch.FirstSequence };
        foreach (var pending in batch.Events)
        {
            request.Events.Add(pending.Data);
        }
        return request;
    }

    public static DeliveryResult[] Deliveries(string topic, ProducerBatch batch, ProduceResponse response)
    {
        var ingestTime = response.IngestTime?.ToDateTimeOffset() ?? default;
        var results = new DeliveryResult[batch.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = new DeliveryResult(topic, response.Shards[i], response.FirstEventId + i, ingestTime,
                batch.Events[i].ProducerTime, response.Duplicate);
        }
        return results;
    }
}
