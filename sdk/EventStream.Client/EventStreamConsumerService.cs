using EventStream.Client.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventStream.Client;

/// <summary>
/// A hosted service that consumes as a member of a consumer group: derive from it, implement
/// <see cref="ProcessAsync"/>, and register it with
/// <see cref="EventStreamServiceCollectionExtensions.AddEventStreamConsumer{TService}(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{EventStreamConsumerOptions}?)"/>, which supplies the options.
/// </summary>
/// <remarks>
/// Events are processed one at a time, per shard in stored order. An event is committed (with auto-commit)
/// once <see cref="ProcessAsync"/> returned for it and the next one was asked for; on shutdown the consumer
/// commits what was processed and leaves the group. An exception from <see cref="ProcessAsync"/> stops the
/// service without committing that event (it is delivered again), and the host reacts as configured by
/// <c>HostOptions.BackgroundServiceExceptionBehavior</c> (by default it stops).
/// </remarks>
public abstract class EventStreamConsumerService : BackgroundService
{
    private EventStreamConsumerOptions? _options;
    private ILoggerFactory? _loggerFactory;
    private Func<TransportSettings, BrokerConnector>? _connect;
    private EventStreamConsumer? _consumer;

    /// <summary>The running consumer, e.g. to commit in manual mode; null before the service started.</summary>
    protected EventStreamConsumer? Consumer => _consumer;

    /// <summary>Processes one event. Return to take the next; throw to stop the service.</summary>
    /// <param name="consumedEvent">The event.</param>
    /// <param name="cancellationToken">Fires when the host stops.</param>
    protected abstract Task ProcessAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken);

    /// <summary>Called with shards newly assigned, before their first event. Does nothing by default.</summary>
    /// <param name="shards">The shards.</param>
    /// <param name="cancellationToken">Fires when the host stops.</param>
    protected virtual Task OnShardsAssignedAsync(IReadOnlyList<int> shards, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called with shards given up or lost, after their last event. Does nothing by default.</summary>
    /// <param name="shards">The shards.</param>
    /// <param name="cancellationToken">Fires when the host stops.</param>
    protected virtual Task OnShardsRevokedAsync(IReadOnlyList<int> shards, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Consumes until the host stops, then commits and leaves the group.</summary>
    /// <param name="stoppingToken">Fires when the host stops.</param>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _options?.Clone() ?? throw new InvalidOperationException(
            $"{GetType().Name} has no options: register it with services.AddEventStreamConsumer<{GetType().Name}>(...).");
        options.ShardsAssigned = Chain(options.ShardsAssigned, OnShardsAssignedAsync);
        options.ShardsRevoked = Chain(options.ShardsRevoked, OnShardsRevokedAsync);
        // Let StartAsync return before the work begins.
        await Task.Yield();
        await using var consumer = _connect is null
            ? new EventStreamConsumer(options, _loggerFactory)
            : new EventStreamConsumer(options, _loggerFactory, TimeProvider.System, _connect);
        _consumer = consumer;
        try
        {
            await foreach (var consumedEvent in consumer.ConsumeAsync(stoppingToken).ConfigureAwait(false))
            {
                await ProcessAsync(consumedEvent, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Supplies the options, logging and channels (the registration's gRPC client); called by the registration.</summary>
    internal void Configure(EventStreamConsumerOptions options, ILoggerFactory? loggerFactory, Func<TransportSettings, BrokerConnector>? connect = null)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _connect = connect;
    }

    private static Func<IReadOnlyList<int>, CancellationToken, Task> Chain(
        Func<IReadOnlyList<int>, CancellationToken, Task>? first, Func<IReadOnlyList<int>, CancellationToken, Task> second) =>
        first is null ? second : async (shards, cancellationToken) =>
        {
            await first(shards, cancellationToken).ConfigureAwait(false);
            await second(shards, cancellationToken).ConfigureAwait(false);
        };
}
