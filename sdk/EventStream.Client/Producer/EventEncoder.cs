using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Client.Producer;

/// <summary>Turns the SDK's types into protocol messages and back.</summary>
internal static class EventEncoder
{
    /// <summary>
    /// The event as an encoded <see cref="EventData"/>, written into <paramref name="chunks"/>: key and
    /// payload are copied there, so the caller may reuse its buffers.
    /// </summary>
    /// <param name="producerEvent">The event.</param>
    /// <param name="producerTime">Its producer time; messages only read it, so events may share one.</param>
    /// <param name="chunks">Where the call's events are encoded.</param>
    /// <param name="eventsLeft">The call's events still to encode, this one included, to size new chunks.</param>
    /// <param name="traceParent">The producer span's context, added as the traceparent header unless the event has one; null for none.</param>
    public static ReadOnlyMemory<byte> Encode(ProducerEvent producerEvent, Timestamp producerTime, EncodedChunks chunks, int eventsLeft,
        string? traceParent = null)
    {
        // Wrapped, not copied: the message lives only until it is written below.
        var data = new EventData
        {
            Data = UnsafeByteOperations.UnsafeWrap(producerEvent.Payload),
            ProducerTime = producerTime,
        };
        // A null byte[] converts to an empty ReadOnlyMemory, so an empty key means no key.
        if (producerEvent.Key is { IsEmpty: false } key)
        {
            data.KeyBytes = UnsafeByteOperations.UnsafeWrap(key);
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
        if (traceParent is not null && !data.Headers.ContainsKey(EventStreamTelemetry.TraceParentHeader))
        {
            data.Headers[EventStreamTelemetry.TraceParentHeader] = traceParent;
        }
        if (!string.IsNullOrEmpty(producerEvent.ContentType))
        {
            data.ContentType = producerEvent.ContentType;
        }
        var encoded = chunks.Take(data.CalculateSize(), eventsLeft);
        data.WriteTo(encoded.Span);
        return encoded;
    }

    /// <summary>The bytes an encoded event adds to a request: tag, length and message.</summary>
    public static int SizeInRequest(int encodedLength) => 1 + CodedOutputStream.ComputeLengthSize(encodedLength) + encodedLength;

    public static EncodedProduceRequest Request(string topic, ProducerBatch batch)
    {
        var request = new EncodedProduceRequest { Topic = topic, ProducerId = batch.ProducerId, FirstSequence = batch.ProducerId.Length == 0 ? 0 : batch.FirstSequence };
        request.Events.Capacity = batch.Count;
        foreach (var pending in batch.Events)
        {
            request.Events.Add(UnsafeByteOperations.UnsafeWrap(pending.Encoded));
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
