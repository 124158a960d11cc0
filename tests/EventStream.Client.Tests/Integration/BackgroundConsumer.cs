using System.Collections.Concurrent;

namespace EventStream.Client.Tests.Integration;

/// <summary>Consumes in the background into a queue, until stopped; marks each event processed by moving on.</summary>
internal sealed class BackgroundConsumer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly ConcurrentQueue<ConsumedEvent>? _groupReceived;

    /// <param name="groupReceived">Where the members of one group also record what they receive, in the order received across them.</param>
    public BackgroundConsumer(EventStreamConsumer consumer, ConcurrentQueue<ConsumedEvent>? groupReceived = null)
    {
        Consumer = consumer;
        _groupReceived = groupReceived;
        _loop = Task.Run(LoopAsync);
    }

    public EventStreamConsumer Consumer { get; }

    public ConcurrentQueue<ConsumedEvent> Received { get; } = new();

    public Exception? Failure { get; private set; }

    /// <summary>Stops consuming (the member stays in the group).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Consumer.DisposeAsync();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var e in Consumer.ConsumeAsync(_stop.Token))
            {
                Received.Enqueue(e);
                _groupReceived?.Enqueue(e);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }
}
