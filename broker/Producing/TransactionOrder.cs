namespace EventStream.Broker.Producing;

/// <summary>
/// How far one of a writer's transactions got, for the transaction after it: that one checks
/// sequence numbers once this one has checked its own (it starts from the state they leave) and
/// commits once this one has finished, so a writer's transactions commit in the order taken.
/// </summary>
internal sealed class TransactionOrder
{
    private readonly TaskCompletionSource _checked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>In place of the transaction before a writer's first.</summary>
    public static TransactionOrder First { get; } = AlreadyDone();

    /// <summary>Its sequence checks are done, and their outcome is in the writer's <see cref="SequenceCache"/>.</summary>
    public Task Checked => _checked.Task;

    /// <summary>It committed or failed.</summary>
    public Task Done => _done.Task;

    public void OnChecked() => _checked.TrySetResult();

    public void OnDone()
    {
        _checked.TrySetResult();
        _done.TrySetResult();
    }

    private static TransactionOrder AlreadyDone()
    {
        var order = new TransactionOrder();
        order.OnDone();
        return order;
    }
}
