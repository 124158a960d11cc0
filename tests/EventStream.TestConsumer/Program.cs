using EventStream.Client;
using EventStream.TestConsumer;

// Usage: EventStream.TestConsumer --address URL --group G --topic T [--commit-every N]
//   [--session-timeout-ms MS] [--heartbeat-ms MS] [--start earliest|latest]
// Prints one JSON object per line: {"assigned":[..]}, {"revoked":[..]}, one per event
// {"id","key","seq","shard","epoch","lsn","ord"}, and {"committed":[{"shard","lsn","ord","id"}]} after
// each successful commit. Commits manually: every N events and when shards are revoked.
var settings = Arguments.Parse(args);
await using var output = new JsonLines(Console.OpenStandardOutput());
EventStreamConsumer? consumer = null;
var processed = new Dictionary<int, ConsumedEvent>();

async Task CommitAsync(CancellationToken cancellationToken)
{
    var snapshot = processed.Values.ToList();
    try
    {
        await consumer!.CommitAsync(cancellationToken);
        output.Committed(snapshot);
        processed.Clear();
    }
    catch (EventStreamException e) when (e.Reason == EventStreamErrorReason.LeaseLost)
    {
        // Some shard moved: report nothing, which only makes the test's check stricter on us.
        processed.Clear();
    }
}

var options = new EventStreamConsumerOptions
{
    Address = settings.Address,
    Group = settings.Group,
    Topics = { settings.Topic },
    StartPosition = settings.Start,
    SessionTimeout = settings.SessionTimeout,
    HeartbeatInterval = settings.HeartbeatInterval,
    AutoCommitInterval = null,
    ShardsAssigned = (shards, _) =>
    {
        output.Shards("assigned", shards);
        return Task.CompletedTask;
    },
    ShardsRevoked = async (shards, cancellationToken) =>
    {
        await CommitAsync(cancellationToken);
        output.Shards("revoked", shards);
    },
};
consumer = new EventStreamConsumer(options);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
try
{
    var count = 0L;
    await foreach (var consumedEvent in consumer.ConsumeAsync(stop.Token))
    {
        if (++count % settings.CommitEvery == 0)
        {
            await CommitAsync(stop.Token);
        }
        output.Event(consumedEvent);
        processed[consumedEvent.Shard] = consumedEvent;
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
}
finally
{
    await consumer.DisposeAsync();
}
