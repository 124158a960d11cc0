using System.Collections.Concurrent;
using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using EventStream.Broker.Telemetry;
using EventStream.Broker.Topics;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Consuming;

/// <summary>
/// The consumer groups this broker runs: started on a member's first contact, stopped when idle. A
/// group runs on one broker at a time, the holder of its coordinator lease (see
/// <see cref="CoordinatorLeases"/>); losing the lease stops the group here at once. When the broker
/// begins to stop, every group stops at once, before the server waits for its calls: sessions end
/// with UNAVAILABLE, nothing is committed for the members, and the leases are released so another
/// broker takes the groups.
/// </summary>
internal sealed class ConsumerGroups(
    GroupStore store,
    ClusterSettings cluster,
    CoordinatorLeases leases,
    ClusterTopology topology,
    ServerShutdowns shutdowns,
    IOptions<ConsumeOptions> options,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    BrokerMetrics metrics) : BackgroundService
{
    private Task? _stoppingAll;
    private readonly ConcurrentDictionary<string, Lazy<Task<RunningGroup>>> _running = new(StringComparer.Ordinal);
    // Runs being stopped: a new start of the group waits until the old coordinator let go of the slot.
    private readonly Dictionary<string, Task> _stopping = new(StringComparer.Ordinal);
    private readonly Lock _stoppingGate = new();

    public ConsumeOptions Options => options.Value;

    /// <summary>
    /// Creates the group if needed (with its start point) and returns its running coordinator,
    /// taking the group's coordinator lease first when the group does not run here yet.
    /// </summary>
    /// <exception cref="RpcException">UNAVAILABLE, with the holder's address, when another broker runs the group.</exception>
    public async Task<GroupCoordinator> JoinAsync(string group, TopicPatterns topics, DateTime? startFrom, CancellationToken cancellationToken)
    {
        if (ShuttingDown)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The broker is shutting down; join again through another broker."));
        }
        ValidateName(group);
        await store.EnsureGroupAsync(group, topics, startFrom, cancellationToken);
        var shardCount = await cluster.GetShardCountAsync(cancellationToken);
        var starting = _running.GetOrAdd(group, name =>
        {
            Lazy<Task<RunningGroup>>? run = null;
            run = new Lazy<Task<RunningGroup>>(() => StartAsync(name, topics, shardCount, run!));
            return run;
        });
        try
        {
            var coordinator = (await starting.Value.WaitAsync(cancellationToken)).Coordinator;
            await coordinator.SlotReady.WaitAsync(cancellationToken);
            return coordinator;
        }
        catch (Exception) when (starting.Value.IsFaulted || (starting.Value.IsCompletedSuccessfully && starting.Value.Result.Coordinator.SlotReady.IsFaulted))
        {
            // Start afresh on the next join.
            await StopAsync(group, starting);
            throw;
        }
    }

    /// <summary>The group's coordinator if this broker runs it.</summary>
    public GroupCoordinator? Find(string group) =>
        _running.TryGetValue(group, out var starting) && starting.Value.IsCompletedSuccessfully ? starting.Value.Result.Coordinator : null;

    /// <summary>
    /// For calls that need the group's coordinator without starting one (a commit or leave when the
    /// group does not run here, admin changes): fails when another broker runs the group.
    /// </summary>
    /// <exception cref="RpcException">UNAVAILABLE, with the holder's address, when another broker runs the group.</exception>
    public Task ThrowIfRunElsewhereAsync(string group, CancellationToken cancellationToken) =>
        Find(group) is not null ? Task.CompletedTask : leases.ThrowIfHeldElsewhereAsync(group, cancellationToken);

    /// <summary>Stops running a group here (its slot and state stay) and releases its coordinator lease.</summary>
    public Task StopAsync(string group) =>
        _running.TryGetValue(group, out var starting) ? StopAsync(group, starting) : WaitForStopAsync(group);

    public static void ValidateName(string group) => TopicNames.Validate(group, "group");

    /// <summary>True once the broker began to stop: its groups stop and no group starts here again.</summary>
    public bool ShuttingDown => Volatile.Read(ref _stoppingAll) is not null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Before the server's shutdown, which waits for the Subscribe calls to end.
        using var onStopping = lifetime.ApplicationStopping.Register(() => StopAll());
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            foreach (var group in _running.Keys)
            {
                if (Find(group) is { HasMembers: false } idle && timeProvider.GetElapsedTime(idle.LastActive) > Options.IdleGroupTimeout)
                {
                    await StopAsync(group);
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await StopAll();
        // A join under way when the stop began may have started a group since.
        await Task.WhenAll(_running.Keys.Select(StopAsync));
    }

    /// <summary>Stops every group running here, together; later joins are refused.</summary>
    private Task StopAll()
    {
        lock (_stoppingGate)
        {
            return _stoppingAll ??= Task.Run(() => Task.WhenAll(_running.Keys.Select(StopAsync)));
        }
    }

    /// <summary>Stops one run of a group; a newer run of the same group is left alone.</summary>
    private async Task StopAsync(string group, Lazy<Task<RunningGroup>> starting)
    {
        // Announced before the run leaves _running, so a new run of the group started from then on
        // waits until this one let go of the slot and the lease.
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_stoppingGate)
        {
            previous = _stopping.TryGetValue(group, out var earlier) ? earlier : Task.CompletedTask;
            _stopping[group] = stopped.Task;
        }
        try
        {
            await previous;
            if (!_running.TryRemove(new KeyValuePair<string, Lazy<Task<RunningGroup>>>(group, starting)) || !starting.IsValueCreated)
            {
                return;
            }
            var running = await starting.Value;
            await running.Coordinator.DisposeAsync();
            // Only once the slot is no longer streamed here may another broker take the group.
            await running.Lease.DisposeAsync();
            GroupLog.Stopped(loggerFactory.CreateLogger<GroupCoordinator>(), group);
        }
        catch (Exception) when (starting.IsValueCreated && starting.Value.IsFaulted)
        {
        }
        finally
        {
            stopped.TrySetResult();
            lock (_stoppingGate)
            {
                if (_stopping.TryGetValue(group, out var pending) && pending == stopped.Task)
                {
                    _stopping.Remove(group);
                }
            }
        }
    }

    private Task WaitForStopAsync(string group)
    {
        lock (_stoppingGate)
        {
            return _stopping.TryGetValue(group, out var pending) ? pending : Task.CompletedTask;
        }
    }

    private async Task<RunningGroup> StartAsync(string group, TopicPatterns topics, int shardCount, Lazy<Task<RunningGroup>> starting)
    {
        // A run of the group still stopping here must let go of the slot first.
        await WaitForStopAsync(group);
        var lease = await leases.AcquireAsync(group, CancellationToken.None);
        var coordinator = new GroupCoordinator(group, topics, shardCount, store, Options, topology,
            shutdowns, timeProvider, loggerFactory.CreateLogger<GroupCoordinator>(), metrics);
        try
        {
            await coordinator.StartAsync(CancellationToken.None);
        }
        catch
        {
            await coordinator.DisposeAsync();
            await lease.DisposeAsync();
            throw;
        }
        // Never two brokers streaming the slot: a lost lease stops the group here at once.
        lease.Lost.Register(() => _ = Task.Run(() => StopAsync(group, starting)));
        return new RunningGroup(coordinator, lease);
    }

    /// <summary>A group running here: its coordinator and the lease that allows it.</summary>
    private sealed record RunningGroup(GroupCoordinator Coordinator, CoordinatorLease Lease);
}
