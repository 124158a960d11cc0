using EventStream.Broker.Consuming;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>The byte accounting of deliveries: what an event adds to a message, and what a message may hold.</summary>
public sealed class DeliveryLimitTests
{
    [Fact]
    public void Events_get_the_send_limit_less_headroom()
    {
        Assert.Equal(4 * 1024 * 1024 - DeliveryLimit.Headroom, DeliveryLimit.EventBytesFor(4 * 1024 * 1024));
        // A tiny limit keeps half for events.
        Assert.Equal(10_000, DeliveryLimit.EventBytesFor(20_000));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(300 * 1024)]
    [InlineData(1024 * 1024)]
    public void An_events_size_in_a_batch_is_exactly_what_it_adds_to_the_message(int payload)
    {
        var e = Event(payload);
        var batch = new EventBatch { Shard = 31, Epoch = long.MaxValue };
        var poll = new PollResponse { MemberId = Guid.NewGuid().ToString("N") };
        var (batchBefore, pollBefore) = (batch.CalculateSize(), poll.CalculateSize());

        batch.Events.Add(e);
        poll.Events.Add(e);

        Assert.Equal(batchBefore + DeliveryLimit.SizeInBatch(e), batch.CalculateSize());
        Assert.Equal(pollBefore + DeliveryLimit.SizeInBatch(e), poll.CalculateSize());
    }

    [Fact]
    public void A_batch_with_its_envelope_or_its_commit_stays_within_the_overhead_counted_for_it()
    {
        var e = Event(10);
        var batch = new EventBatch { Shard = int.MaxValue, Epoch = long.MaxValue, Events = { e } };
        var pushed = new SubscribeResponse { Events = batch };
        var commit = new ShardCommit { Shard = int.MaxValue, Epoch = long.MaxValue, Position = e.Position };
        var answer = new PollResponse { Commits = { commit } };

        Assert.True(pushed.CalculateSize() - DeliveryLimit.SizeInBatch(e) <= DeliveryLimit.BatchOverhead);
        Assert.True(answer.CalculateSize() <= DeliveryLimit.BatchOverhead);
    }

    private static Event Event(int payload) => new()
    {
        Topic = "orders",
        Shard = 31,
        EventId = long.MaxValue,
        Key = ByteString.CopyFromUtf8("customer-42"),
        IngestTime = Timestamp.FromDateTime(DateTime.UtcNow),
        Position = new Position { Node = int.MaxValue, CommitLsn = ulong.MaxValue, Ordinal = uint.MaxValue, EventId = long.MaxValue },
        Data = ByteString.CopyFrom(new byte[payload]),
    };
}
