using EventStream.Client.Producer;

namespace EventStream.Client.Tests.Producer;

/// <summary>Builds pending events and batches for the state-machine tests.</summary>
internal static class PendingEvents
{
    public static PendingEvent Of(int size = 10) =>
        new(new byte[1], size, DateTimeOffset.UnixEpoch, NoCall.Instance);

    /// <summary>An event as the producer encoded it, sized as in a request.</summary>
    public static PendingEvent Of(ReadOnlyMemory<byte> encoded) =>
        new(encoded, EventEncoder.SizeInRequest(encoded.Length), DateTimeOffset.UnixEpoch, NoCall.Instance);

    public static ProducerBatch Batch(int events, TimeSpan? deadline = null)
    {
        var batch = new ProducerBatch(TimeSpan.Zero, deadline ?? TimeSpan.FromMinutes(2));
        for (var i = 0; i < events; i++)
        {
            batch.Add(Of());
        }
        return batch;
    }

    private sealed class NoCall : IProduceCall
    {
        public static readonly NoCall Instance = new();

        public void OnEventFinished()
        {
        }
    }
}
