using EventStream.Broker.Telemetry;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

/// <summary>Delivery: the events each member gets next, one batch per shard, within a count and a byte limit.</summary>
/// <remarks>
/// A Subscribe session continues after what it was sent; a Poll answers from the oldest
/// uncommitted event of each shard, so an answer lost in transit is simply answered again.
/// </remarks>
internal sealed partial class GroupCoordinator
{
    /// <summary>
    /// The next events for a Subscribe session, marked as sent: each batch fits one message of
    /// the limit (the batches together do too), and holds at most <see cref="ConsumeOptions.MaxBatchEvents"/>.
    /// </summary>
    public List<EventBatch> TakeEvents(ConnectedMember member, DeliveryLimit limit, PayloadFormat format) =>
        Take(member, limit, format, fromCommitted: false);

    /// <summary>
    /// The events for a Poll answer: per shard, from the oldest uncommitted event, whatever earlier
    /// Polls returned. They count as received until the member's next Poll, which is what holds a
    /// revoked shard until the member commits them (or its session timeout passes).
    /// </summary>
    public List<EventBatch> PollEvents(ConnectedMember member, DeliveryLimit limit, PayloadFormat format) =>
        Take(member, limit, format, fromCommitted: true);

    private List<EventBatch> Take(ConnectedMember member, DeliveryLimit limit, PayloadFormat format, bool fromCommitted)
    {
        var batches = new List<EventBatch>();
        lock (_gate)
        {
            var shards = Deliverable(member);
            if (fromCommitted)
            {
                foreach (var shard in shards)
                {
                    _shards[shard].Redeliver();
                }
            }
            // After a delivery cut short, the next one starts where it stopped.
            var first = Math.Max(shards.FindIndex(s => s >= member.NextShard), 0);
            var events = 0;
            long bytes = 0;
            for (var i = 0; i < shards.Count; i++)
            {
                var shard = shards[(first + i) % shards.Count];
                var queue = _shards[shard];
                if (queue.Undelivered == 0)
                {
                    continue;
                }
                var batch = new EventBatch { Shard = shard, Epoch = queue.Epoch };
                var used = bytes + DeliveryLimit.BatchOverhead;
                var most = Math.Min(Math.Min(limit.MaxEvents - events, _options.MaxBatchEvents), queue.Undelivered);
                while (batch.Events.Count < most)
                {
                    var e = queue.PeekUndelivered(batch.Events.Count);
                    var message = EventMessages.ToMessage(e, _topics.NameOf(e.TopicId), format);
                    var size = DeliveryLimit.SizeInBatch(message);
                    // The first event of a delivery goes whatever its size: one that cannot fit any
                    // message fails visibly when sent instead of blocking its shard unseen.
                    if (events + batch.Events.Count > 0 && used + size > limit.MaxBytes)
                    {
                        break;
                    }
                    batch.Events.Add(message);
                    used += size;
                }
                if (batch.Events.Count > 0)
                {
                    Count(queue, batch);
                    queue.MarkDelivered(batch.Events.Count);
                    events += batch.Events.Count;
                    bytes = used;
                    batches.Add(batch);
                }
                if (events >= limit.MaxEvents || batch.Events.Count < most)
                {
                    // Cut short: this shard is next if it got nothing, otherwise the one after it.
                    member.NextShard = batch.Events.Count == 0 ? shard : shard + 1;
                    break;
                }
            }
        }
        return batches;
    }

    /// <summary>Metrics and the delivery span of a batch about to be handed over. Under the lock.</summary>
    private void Count(ShardQueue queue, EventBatch batch)
    {
        if (_metrics.DeliveryEnabled)
        {
            for (var i = 0; i < batch.Events.Count; i++)
            {
                var e = queue.PeekUndelivered(i);
                _metrics.Delivered(Group, batch.Events[i].Topic, e.IngestTime, again: !queue.FirstDelivery(e.Position));
            }
        }
        BrokerTracing.Delivered(Group, batch.Events[0].Topic, batch.Events);
    }

    /// <summary>The member's shards it may receive events of now, in shard order.</summary>
    private List<int> Deliverable(ConnectedMember member)
    {
        var shards = new List<int>();
        foreach (var queue in _shards)
        {
            if (queue.Owner == member.Id && !queue.Revoking)
            {
                shards.Add(queue.Shard);
            }
        }
        return shards;
    }
}
