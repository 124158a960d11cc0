using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Producer;

/// <summary>What a producer's topics share: the stream to the broker, settings, clock and shutdown token.</summary>
internal sealed class ProducerContext(CallInvoker invoker, EventStreamProducerOptions options, ILogger logger, TimeProvider time, CancellationToken stopping)
{
    private readonly long _start = time.GetTimestamp();

    /// <summary>The ordered stream every topic's batches go through.</summary>
    public ProduceStreamClient Stream { get; } = new(invoker, stopping);

    public EventStreamProducerOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    public TimeProvider Time { get; } = time;

    /// <summary>Cancelled when the producer closes: stops loops and requests.</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>Monotonic time since the producer started.</summary>
    public TimeSpan Now => Time.GetElapsedTime(_start);
}
