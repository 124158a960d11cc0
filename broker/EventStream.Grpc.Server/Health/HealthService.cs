using System.Threading.Channels;
using EventStream.Protocol.Health.V1;
using EventStream.Protocol.Methods;
using Google.Protobuf.Reflection;
using ServingStatus = EventStream.Protocol.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Grpc.Server.Health;

/// <summary>
/// <c>grpc.health.v1.Health</c>. The server as a whole (service "") and each named service
/// start NOT_SERVING until the host says otherwise with <see cref="SetStatus"/>.
/// </summary>
public sealed class HealthService : IGrpcService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal) { [""] = ServingStatus.NotServing };
    private readonly List<(string Service, Channel<ServingStatus> Channel)> _watchers = [];

    /// <inheritdoc />
    public IEnumerable<ServiceDescriptor> Services => [HealthMethods.Service];

    /// <inheritdoc />
    public void Bind(GrpcServiceBinder binder)
    {
        binder.Unary(HealthMethods.Check, CheckAsync);
        binder.ServerStreaming(HealthMethods.Watch, WatchAsync);
    }

    /// <summary>Sets the status of a service ("" for the whole server) and tells its watchers.</summary>
    public void SetStatus(string service, ServingStatus status)
    {
        lock (_lock)
        {
            _statuses[service] = status;
            foreach (var (watched, channel) in _watchers)
            {
                if (watched == service)
                {
                    channel.Writer.TryWrite(status);
                }
            }
        }
    }

    /// <summary>The current status of a service, or null when it is unknown.</summary>
    public ServingStatus? GetStatus(string service)
    {
        lock (_lock)
        {
            return _statuses.TryGetValue(service, out var status) ? status : null;
        }
    }

    private Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, ServerCallContext context) =>
        GetStatus(request.Service) is { } status
            ? Task.FromResult(new HealthCheckResponse { Status = status })
            : throw new GrpcException(GrpcStatusCode.NotFound, $"Unknown service '{request.Service}'.");

    private async Task WatchAsync(HealthCheckRequest request, ResponseStream<HealthCheckResponse> responses, ServerCallContext context)
    {
        // Only the latest status matters to a watcher.
        var channel = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var entry = (request.Service, channel);
        lock (_lock)
        {
            channel.Writer.TryWrite(_statuses.TryGetValue(request.Service, out var status) ? status : ServingStatus.ServiceUnknown);
            _watchers.Add(entry);
        }
        try
        {
            ServingStatus? last = null;
            await foreach (var status in channel.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (status != last)
                {
                    await responses.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken);
                    last = status;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(entry);
            }
        }
    }
}
