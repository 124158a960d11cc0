using EventStream.Client.Producer;
using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Client.Tests.Producer;

public class EventEncoderTests
{
    [Fact]
    public void A_request_of_encoded_events_reads_as_the_ProduceStreamRequest_the_broker_expects()
    {
        var time = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var key = new byte[] { 1, 2, 3 };
        var payload = new byte[300];
        Random.Shared.NextBytes(payload);
        var original = payload.ToArray();
        var events = new[]
        {
            new ProducerEvent(payload, key),
            new ProducerEvent("text body") { Headers = new Dictionary<string, string> { ["trace"] = "abc", ["n"] = "1" }, ContentType = "text/plain" },
            new ProducerEvent(new byte[] { 9 }),
        };
        var chunks = new EncodedChunks();
        var batch = new ProducerBatch(TimeSpan.Zero, TimeSpan.FromMinutes(1)) { ProducerId = "p-1", FirstSequence = 40 };
        for (var i = 0; i < events.Length; i++)
        {
            var encoded = EventEncoder.Encode(events[i], time, chunks, events.Length - i);
            batch.Add(PendingEvents.Of(encoded));
        }
        // The caller may reuse its buffers once the call returned.
        Array.Clear(payload);
        Array.Clear(key);

        var request = EventEncoder.Request("orders", batch);
        var bytes = new EncodedProduceStreamRequest { RequestId = 7, Batch = request }.ToByteArray();
        var read = ProduceStreamRequest.Parser.ParseFrom(bytes);

        Assert.Equal(7, read.RequestId);
        Assert.Equal("orders", read.Batch.Topic);
        Assert.Equal("p-1", read.Batch.ProducerId);
        Assert.Equal(40, read.Batch.FirstSequence);
        Assert.Equal(3, read.Batch.Events.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.Batch.Events[0].KeyBytes.ToByteArray());
        Assert.Equal(original, read.Batch.Events[0].Data.ToByteArray());
        Assert.Equal(time, read.Batch.Events[0].ProducerTime);
        Assert.Equal("text body", read.Batch.Events[1].Data.ToStringUtf8());
        Assert.Equal(EventData.KeyOneofCase.None, read.Batch.Events[1].KeyCase);
        Assert.Equal("abc", read.Batch.Events[1].Headers["trace"]);
        Assert.Equal("1", read.Batch.Events[1].Headers["n"]);
        Assert.Equal("text/plain", read.Batch.Events[1].ContentType);
        Assert.Equal(new byte[] { 9 }, read.Batch.Events[2].Data.ToByteArray());
        Assert.Equal(batch.Bytes, request.Events.Sum(e => EventEncoder.SizeInRequest(e.Length)));
    }
}
