namespace EventStream.Client.Producer;

/// <summary>Waits for the events of one produce call.</summary>
internal interface IProduceCall
{
    /// <summary>One of the call's events was acknowledged, failed or was withdrawn.</summary>
    void OnEventFinished();
}

/// <summary>
/// The task of one <c>ProduceAsync</c> or <c>ProduceBatchAsync</c> call. It completes, on the thread that
/// finishes the call's last event, before that event's batch reports itself done, so a flush that waited
/// for the batch finds the call's task complete. Its continuations run asynchronously.
/// </summary>
/// <typeparam name="TResult">What the call returns, made from the deliveries in order.</typeparam>
internal sealed class ProduceCall<TResult>(Func<DeliveryResult[], TResult> result, CancellationToken cancellationToken) : IProduceCall
{
    private readonly TaskCompletionSource<TResult> _task = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PendingEvent[] _events = [];
    private int _unfinished;

    public Task<TResult> Task => _task.Task;

    public void Track(PendingEvent[] events)
    {
        _events = events;
        _unfinished = events.Length;
    }

    public void OnEventFinished()
    {
        if (Interlocked.Decrement(ref _unfinished) != 0)
        {
            return;
        }
        var deliveries = new DeliveryResult[_events.Length];
        for (var i = 0; i < deliveries.Length; i++)
        {
            var pending = _events[i];
            if (pending.Error is { } error)
            {
                // The first failure in produce order.
                _task.TrySetException(error);
                return;
            }
            if (pending.Delivery is not { } delivery)
            {
                _task.TrySetCanceled(cancellationToken);
                return;
            }
            deliveries[i] = delivery;
        }
        _task.TrySetResult(result(deliveries));
    }

    /// <summary>The caller's token fired: the call ends cancelled, whatever becomes of events already sent.</summary>
    public void StopWaiting() => _task.TrySetCanceled(cancellationToken);
}
