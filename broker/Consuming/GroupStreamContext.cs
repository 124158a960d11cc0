using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using Grpc.Core;

namespace EventStream.Broker.Consuming;

/// <summary>What the parts of a group's slot streaming share: its queues, its database and whether its slots are ready.</summary>
internal sealed class GroupStreamContext(
    string group, IShardQueues queues, GroupStore store, ConsumeOptions options, ClusterTopology topology,
    ServerShutdowns shutdowns, TimeProvider timeProvider, ILogger logger)
{
    private readonly TaskCompletionSource _slotReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Group { get; } = group;

    public string SlotName { get; } = SlotNames.ForGroup(group);

    public IShardQueues Queues { get; } = queues;

    public GroupStore Store { get; } = store;

    public ConsumeOptions Options { get; } = options;

    public ClusterTopology Topology { get; } = topology;

    public ServerShutdowns Shutdowns { get; } = shutdowns;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public ILogger Logger { get; } = logger;

    /// <summary>Completes once the group's slots exist; faults when they could not be set up.</summary>
    public Task SlotReady => _slotReady.Task;

    public void MarkSlotReady() => _slotReady.TrySetResult();

    /// <summary>
    /// Nobody can join a group without its slot: a failure before it exists is told to those
    /// joining instead of keeping them waiting. <paramref name="what"/> names the slot or slots.
    /// </summary>
    public void FailUnlessReady(string what)
    {
        if (!_slotReady.Task.IsCompleted)
        {
            _slotReady.TrySetException(new RpcException(new Status(StatusCode.Unavailable,
                $"The {what} of group '{Group}' could not be set up (the broker's log has the cause); retry later.")));
        }
    }
}
