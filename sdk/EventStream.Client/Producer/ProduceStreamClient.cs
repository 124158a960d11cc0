using System.Collections.Concurrent;
using System.Threading.Channels;
using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;
using Grpc.Core;

namespace EventStream.Client.Producer;

/// <summary>
/// Sends produce requests over one <c>ProduceStream</c> call: they reach the broker in the order
/// sent, so a producer's batches commit in sequence order, with many in flight at once; answers
/// are matched by request id. A broken stream fails its unanswered requests as UNAVAILABLE (the
/// pipeline retries them in order) and the next request opens a new stream. One task writes, as the
/// call's request stream takes one write at a time.
/// </summary>
internal sealed class ProduceStreamClient(CallInvoker invoker, CancellationToken stopping) : IAsyncDisposable
{
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
                _session = StreamSession.Open(invoker, stopping);
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
        private readonly AsyncDuplexStreamingCall<EncodedProduceStreamRequest, ProduceStreamResponse> _call;
        private readonly ConcurrentDictionary<long, TaskCompletionSource<ProduceResponse>> _pending = new();
        private readonly Channel<EncodedProduceStreamRequest> _outbox = Channel.CreateUnbounded<EncodedProduceStreamRequest>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Task _writing;
        private readonly Task _reading;
        private volatile bool _broken;

        private StreamSession(AsyncDuplexStreamingCall<EncodedProduceStreamRequest, ProduceStreamResponse> call)
        {
            _call = call;
            _writing = Task.Run(WriteAsync);
            _reading = Task.Run(ReadAsync);
        }

        public bool IsBroken => _broken;

        public static StreamSession Open(CallInvoker invoker, CancellationToken stopping) =>
            new(invoker.AsyncDuplexStreamingCall(ProduceStreamMethod.Method, host: null, new CallOptions(cancellationToken: stopping)));

        public async Task<ProduceResponse> SendAsync(long requestId, EncodedProduceRequest request, TimeSpan timeout)
        {
            var answer = new TaskCompletionSource<ProduceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[requestId] = answer;
            if (_broken || !_outbox.Writer.TryWrite(new EncodedProduceStreamRequest { RequestId = requestId, Batch = request }))
            {
                _pending.TryRemove(requestId, out _);
                throw new RpcException(new Status(StatusCode.Unavailable, "The produce stream closed; the batch was not sent."));
            }
            try
            {
                return await answer.Task.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _pending.TryRemove(requestId, out _);
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"No answer from the broker within {timeout.TotalSeconds:0.###} s."));
            }
        }

        public async ValueTask DisposeAsync()
        {
            _outbox.Writer.TryComplete();
            // The writer is done before the requests complete: the request stream takes one operation at a time.
            await _writing.ConfigureAwait(false);
            try
            {
                await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException)
            {
                // The call had ended already.
            }
            _call.Dispose();
            await _reading.ConfigureAwait(false);
            Break(new RpcException(new Status(StatusCode.Unavailable, "The producer closed.")));
        }

        private async Task WriteAsync()
        {
            try
            {
                await foreach (var request in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await _call.RequestStream.WriteAsync(request).ConfigureAwait(false);
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
                await foreach (var response in _call.ResponseStream.ReadAllAsync().ConfigureAwait(false))
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
                        answer.TrySetException(new RpcException(new Status((StatusCode)response.Error.Code, response.Error.Message)));
                    }
                }
                Break(new RpcException(new Status(StatusCode.Unavailable, "The broker ended the produce stream.")));
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
            var status = cause is RpcException { StatusCode: not StatusCode.OK } grpc
                ? grpc.Status
                : new Status(StatusCode.Unavailable, cause.Message, cause);
            if (status.StatusCode is StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown)
            {
                status = new Status(StatusCode.Unavailable, "The produce stream broke: " + status.Detail, cause);
            }
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var answer))
                {
                    // RpcException has no inner exception: the cause travels as the status' DebugException.
                    answer.TrySetException(new RpcException(status));
                }
            }
        }
    }
}
