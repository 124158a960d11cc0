namespace EventStream.Client;

/// <summary>Where the broker stored an acknowledged event.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Shard">The shard the event went to.</param>
/// <param name="EventId">The event's id, unique within the topic.</param>
/// <param name="IngestTime">When the broker stored the event.</param>
/// <param name="ProducerTime">The event's producer time as sent.</param>
/// <param name="IsDuplicate">
/// True when an earlier attempt had already stored the event and its acknowledgement was lost; the event
/// is stored once, and this result describes that copy.
/// </param>
public sealed record DeliveryResult(
    string Topic,
    int Shard,
    long EventId,
    DateTimeOffset IngestTime,
    DateTimeOffset ProducerTime,
    bool IsDuplicate);
