using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace EventStream.Client.Tests.Fakes;

/// <summary>A client interceptor that records the full name of each call it sees, tagged with its own name.</summary>
public sealed class RecordingInterceptor(string name = "interceptor", ConcurrentQueue<string>? log = null) : Interceptor
{
    private readonly ConcurrentQueue<string> _log = log ?? new();

    /// <summary>What it saw, as <c>name /service/method</c>, in order (shared between interceptors given the same log).</summary>
    public IReadOnlyList<string> Calls => [.. _log];

    /// <summary>The calls to <paramref name="method"/> (<c>/service/method</c>) it saw.</summary>
    public int CountOf(string method) => _log.Count(c => c == $"{name} {method}");

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        _log.Enqueue($"{name} {context.Method.FullName}");
        return continuation(request, context);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context,
        AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        _log.Enqueue($"{name} {context.Method.FullName}");
        return continuation(context);
    }
}
