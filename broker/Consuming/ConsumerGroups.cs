using System.Collections.Concurrent;
using EventStream.Broker.Citus;
using EventStream.Broker.Storage;
using EventStream.Broker.Topics;
using EventStream.Grpc;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Consuming;

/// <summary>The consumer groups this broker runs: started on a member's first contact, stopped when idle.</summary>
internal sealed class ConsumerGroups(
    GroupStore store,
    ClusterSettings cluster,
    ClusterTopology topology,
    IOptions<ConsumeOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Lazy<Task<GroupCoordinator>>> _running = new(StringComparer.Ordinal);

    public ConsumeOptions Options => options.Value;

    /// <summary>Creates the group if needed (with its start point) and returns its running coordinator.</summary>
    public async Task<GroupCoordinator> JoinAsync(string group, TopicPatterns topics, DateTime? startFrom, CancellationToken cancellationToken)
    {
        ValidateName(group);
        await StorageCalls.RunAsync(() => store.EnsureGroupAsync(group, topics, startFrom, cancellationToken));
        var shardCount = await cluster.GetShardCountAsync(cancellationToken);
        var starting = _running.GetOrAdd(group, name => new Lazy<Task<GroupCoordinator>>(() => StartAsync(name, topics, shardCount)));
        try
        {
            var coordinator = await starting.Value.WaitAsync(cancellationToken);
            await coordinator.SlotReady.WaitAsync(cancellationToken);
            return coordinator;
        }
        catch (Exception) when (starting.Value.IsFaulted || (starting.Value.IsCompletedSuccessfully && starting.Value.Result.SlotReady.IsFaulted))
        {
            // Start afresh on the next join.
            await StopAsync(group);
            throw;
        }
    }

    /// <summary>The group's coordinator if this broker runs it.</summary>
    public GroupCoordinator? Find(string group) =>
        _running.TryGetValue(group, out var starting) && starting.Value.IsCompletedSuccessfully ? starting.Value.Result : null;

    /// <summary>Stops running a group here (its slot and state stay).</summary>
    public async Task StopAsync(string group)
    {
        if (_running.TryRemove(group, out var starting) && starting.IsValueCreated)
        {
            try
            {
                var coordinator = await starting.Value;
                await coordinator.DisposeAsync();
                GroupLog.Stopped(loggerFactory.CreateLogger<GroupCoordinator>(), group);
            }
            catch (Exception) when (starting.Value.IsFaulted)
            {
            }
        }
    }

    public static void ValidateName(string group)
    {
        try
        {
            TopicNames.Validate(group);
        }
        catch (GrpcException)
        {
            throw new GrpcException(GrpcStatusCode.InvalidArgument,
                $"Invalid group name '{group}': use 1 to 249 characters from A-Z, a-z, 0-9, '.', '_' and '-'.");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
        foreach (var group in _running.Keys)
        {
            await StopAsync(group);
        }
    }

    private async Task<GroupCoordinator> StartAsync(string group, TopicPatterns topics, int shardCount)
    {
        var coordinator = new GroupCoordinator(group, topics, shardCount, store, Options, topology,
            timeProvider, loggerFactory.CreateLogger<GroupCoordinator>());
        await StorageCalls.RunAsync(() => coordinator.StartAsync(CancellationToken.None));
        return coordinator;
    }
}
