using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Broker.Health;

/// <summary>
/// The standard grpc.health.v1 service, whose Watch streams end when the broker begins to stop:
/// NOT_SERVING, then UNAVAILABLE. Left open, a watch would hold the server's shutdown until the
/// host's timeout, as the library's watch ends only with its call.
/// </summary>
internal sealed class BrokerHealthService(IHostApplicationLifetime lifetime) : HealthServiceImpl
{
    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        var writer = new ClosableWriter(responseStream);
        var watching = base.Watch(request, writer, context);
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
        {
            if (await Task.WhenAny(watching, stopping.Task) == watching)
            {
                await watching;
                return;
            }
        }
        // The library's watch goes on until the call's token ends; what it writes from now is dropped.
        await writer.CloseWithAsync(new HealthCheckResponse { Status = ServingStatus.NotServing });
        throw new RpcException(new Status(StatusCode.Unavailable, "The broker is shutting down."));
    }

    /// <summary>Passes writes through, one at a time, until closed with a last message.</summary>
    private sealed class ClosableWriter(IServerStreamWriter<HealthCheckResponse> inner) : IServerStreamWriter<HealthCheckResponse>
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _closed;

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public async Task WriteAsync(HealthCheckResponse message)
        {
            await _gate.WaitAsync();
            try
            {
                if (!_closed)
                {
                    await inner.WriteAsync(message);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        public async Task CloseWithAsync(HealthCheckResponse last)
        {
            await WriteAsync(last);
            await _gate.WaitAsync();
            _closed = true;
            _gate.Release();
        }
    }
}
