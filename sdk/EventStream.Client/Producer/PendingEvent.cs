namespace EventStream.Client.Producer;

/// <summary>An event from the call that produced it until it is acknowledged, fails or is withdrawn.</summary>
internal sealed class PendingEvent(ReadOnlyMemory<byte> encoded, int size, DateTimeOffset producerTime, IProduceCall call)
{
    private int _finished;

    /// <summary>The event as sent: an encoded <c>EventData</c>.</summary>
    public ReadOnlyMemory<byte> Encoded { get; } = encoded;

    /// <summary>The bytes the event adds to a request.</summary>
    public int Size { get; } = size;

    /// <summary>The producer time sent with the event.</summary>
    public DateTimeOffset ProducerTime { get; } = producerTime;

    /// <summary>The batch holding the event, once it is in one.</summary>
    public ProducerBatch? Batch { get; set; }

    /// <summary>Where the event was stored, once acknowledged.</summary>
    public DeliveryResult? Delivery { get; private set; }

    /// <summary>Why the event failed, if it did.</summary>
    public Exception? Error { get; private set; }

    public void Complete(DeliveryResult delivery)
    {
        if (Finish())
        {
            Delivery = delivery;
            call.OnEventFinished();
        }
    }

    public void Fail(Exception error)
    {
        if (Finish())
        {
            Error = error;
            call.OnEventFinished();
        }
    }

    /// <summary>The event was withdrawn before it was sent.</summary>
    public void Withdraw()
    {
        if (Finish())
        {
            call.OnEventFinished();
        }
    }

    private bool Finish() => Interlocked.Exchange(ref _finished, 1) == 0;
}
