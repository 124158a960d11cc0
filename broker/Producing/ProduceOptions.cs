namespace EventStream.Broker.Producing;

/// <summary>Limits and group commit of the produce path (section <c>EventStream:Produce</c>).</summary>
internal sealed class ProduceOptions
{
    public const string SectionName = "EventStream:Produce";

    /// <summary>Largest event (key + payload + headers), in bytes. Default 1 MiB.</summary>
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Most events in one request. Default 10,000.</summary>
    public int MaxBatchEvents { get; set; } = 10_000;

    /// <summary>
    /// Writers committing in parallel, each on its own connection. Batches of one producer (or one
    /// connection, without a producer id) always use the same writer, which keeps their order.
    /// Default 2.
    /// </summary>
    public int Writers { get; set; } = 2;

    /// <summary>Most events a writer puts in one transaction when coalescing requests. Default 20,000.</summary>
    public int MaxEventsPerTransaction { get; set; } = 20_000;

    /// <summary>
    /// How long a writer with a small transaction waits for more requests to join it. Requests
    /// that arrive while a transaction commits join the next one regardless, which groups commits
    /// under load without a wait. Default zero (no wait): a wait of 1 ms cost the broker a quarter
    /// of its CPU at a steady 5,000 events/s and added a millisecond to every acknowledgement.
    /// </summary>
    public TimeSpan GroupCommitDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Most batches a ProduceStream call may have in flight. Default 64.</summary>
    public int MaxStreamInFlight { get; set; } = 64;

    /// <summary>Batches remembered per producer and topic to answer retries. Default 8.</summary>
    public int RememberedBatches { get; set; } = 8;

    public void Validate()
    {
        if (MaxEventBytes <= 0 || MaxBatchEvents <= 0 || Writers <= 0 || MaxEventsPerTransaction <= 0 || MaxStreamInFlight <= 0 || RememberedBatches <= 0)
        {
            throw new InvalidOperationException($"{SectionName}: every limit must be positive.");
        }
        if (MaxBatchEvents > EventIdAllocator.BlockSize)
        {
            throw new InvalidOperationException($"{SectionName}:MaxBatchEvents may not exceed {EventIdAllocator.BlockSize}.");
        }
        if (GroupCommitDelay < TimeSpan.Zero || GroupCommitDelay > TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException($"{SectionName}:GroupCommitDelay must be between 0 and 1 second.");
        }
    }
}
