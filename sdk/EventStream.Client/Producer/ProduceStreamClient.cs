using System.Collections.Concurrent;
using System.Threading.Channels;
using EventStream.Grpc;
using EventStream.Grpc.Client;
using EventStream.Protocol.Methods;
using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;

namespace EventStream.Client.Producer;

/// <summary>
/// Sends produce requests over one <c>ProduceStream</c> call: they reach the broker in the order
/// sent, so a producer's batches commit in sequence order, with many in flight at once; answers
/// are matched by request id. A broken stream fails its unanswered requests as UNAVAILABLE (the
/// pipeline retries them in order) and the next request opens a new stream.
/// </summary>
internal sealed class ProduceStreamClient(GrpcChannel channel, CancellationToken stopping) : IAsyncDisposable
{
    // ProduceStream, sending requests whose events were encoded when produced.
    private static readonly Method<EncodedProduceStreamRequest, ProduceStreamResponse> ProduceStream =
        new(MethodType.DuplexStreaming, ProducerMethods.ProduceStream.ServiceName, ProducerMethods.ProduceStream.Name);

    private readonly Lock _lock = new();
    private StreamSession? _session;
    private long _nextRequestId;

    /// <summary>Queues a request behind those sent before it and waits for its answer.</summary>
    public Task<ProduceResponse> SendAsync(EncodedProduceRequest request, TimeSpan timeout)
    {
        lock (_lock)
        {
            if (_session is null || _session.IsBroken)
            {
                _session = StreamSession.Open(channel, stopping);
            }
            return _session.SendAsync(++_nextRequestId, request, timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        StreamSession? session;
        lock (_lock)
        {
            session = _session;
            _session = null;
        }
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class StreamSession : IAsyncDisposable
    {
        private readonly GrpcCall<EncodedProduceStreamRequest, ProduceStreamResponse> _call;
        private readonly ConcurrentDictionary<long, TaskCompletionSource<ProduceResponse>> _pending = new();
        private readonly Channel<EncodedProduceStreamRequest> _outbox = Channel.CreateUnbounded<EncodedProduceStreamRequest>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Task _writing;
        private readonly Task _reading;
        private volatile bool _broken;

        private StreamSession(GrpcCall<EncodedProduceStreamRequest, ProduceStreamResponse> call)
        {
            _call = call;
            _writing = Task.Run(WriteAsync);
            _reading = Task.Run(ReadAsync);
        }

        public bool IsBroken => _broken;

        public static StreamSession Open(GrpcChannel channel, CancellationToken stopping) =>
            new(channel.StartStreamingCall(ProduceStream, new CallOptions(CancellationToken: stopping)));

        public async Task<ProduceResponse> SendAsync(long requestId, EncodedProduceRequest request, TimeSpan timeout)
        {
            var answer = new TaskCompletionSource<ProduceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[requestId] = answer;
            if (_broken || !_outbox.Writer.TryWrite(new EncodedProduceStreamRequest { RequestId = requestId, Batch = request }))
            {
                _pending.TryRemove(requestId, out _);
                throw new GrpcException(GrpcStatusCode.Unavailable, "The produce stream closed; the batch was not sent.");
            }
            try
            {
                return await answer.Task.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _pending.TryRemove(requestId, out _);
                throw new GrpcException(GrpcStatusCode.DeadlineExceeded, $"No answer from the broker within {timeout.TotalSeconds:0.###} s.");
            }
        }

        public async ValueTask DisposeAsync()
        {
            _outbox.Writer.TryComplete();
            try
            {
                await _writing.ConfigureAwait(false);
                await _call.CompleteRequestsAsync().ConfigureAwait(false);
            }
            catch (GrpcException)
            {
            }
            _call.Dispose();
            try
            {
                await _reading.ConfigureAwait(false);
            }
            catch (GrpcException)
            {
            }
            Break(new GrpcException(GrpcStatusCode.Unavailable, "The producer closed."));
        }

        private async Task WriteAsync()
        {
            try
            {
                await foreach (var request in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await _call.WriteAsync(request).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                Break(e);
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var response in _call.ReadAllAsync().ConfigureAwait(false))
                {
                    if (!_pending.TryRemove(response.RequestId, out var answer))
                    {
                        continue;
                    }
                    if (response.ResultCase == ProduceStreamResponse.ResultOneofCase.Response)
                    {
                        answer.TrySetResult(response.Response);
                    }
                    else
                    {
                        answer.TrySetException(new GrpcException((GrpcStatusCode)response.Error.Code, response.Error.Message));
                    }
                }
                Break(new GrpcException(GrpcStatusCode.Unavailable, "The broker ended the produce stream."));
            }
            catch (Exception e)
            {
                Break(e);
            }
        }

        private void Break(Exception cause)
        {
            _broken = true;
            _outbox.Writer.TryComplete();
            // A failed stream is transient for its requests: they may be retried on a new one.
            var status = cause is GrpcException { StatusCode: not GrpcStatusCode.OK } grpc ? grpc.Status : new GrpcStatus(GrpcStatusCode.Unavailable, cause.Message);
            if (status.Code is GrpcStatusCode.Cancelled or GrpcStatusCode.Internal or GrpcStatusCode.Unknown)
            {
                status = new GrpcStatus(GrpcStatusCode.Unavailable, "The produce stream broke: " + status.Detail);
            }
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var answer))
                {
                    answer.TrySetException(new GrpcException(status, innerException: cause));
                }
            }
        }
    }
}
