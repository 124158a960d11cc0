using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using EventStream.Grpc.Wire;
using Google.Protobuf;

namespace EventStream.Grpc.Server;

/// <summary>The request messages of a client- or duplex-streaming call.</summary>
/// <typeparam name="T">The request message type.</typeparam>
public sealed class RequestStream<T> : IAsyncEnumerable<T>
    where T : class, IMessage<T>, new()
{
    private readonly PipeReader _reader;
    private readonly MessageParser<T> _parser;
    private readonly int _maxMessageSize;
    private readonly MessageCompression _compression;
    private readonly CancellationToken _callToken;

    internal RequestStream(PipeReader reader, MessageParser<T> parser, int maxMessageSize, MessageCompression compression, CancellationToken callToken)
    {
        _reader = reader;
        _parser = parser;
        _maxMessageSize = maxMessageSize;
        _compression = compression;
        _callToken = callToken;
    }

    /// <summary>The next request, or null when the client has completed its requests.</summary>
    public async ValueTask<T?> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_callToken, cancellationToken);
        return await MessageFraming.ReadMessageAsync(_reader, _parser, _maxMessageSize, _compression, linked.Token);
    }

    /// <summary>Reads every request until the client completes.</summary>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadNextAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
}

/// <summary>The response messages of a server- or duplex-streaming call. Safe for concurrent writers.</summary>
/// <typeparam name="T">The response message type.</typeparam>
public sealed class ResponseStream<T>
    where T : class, IMessage<T>
{
    private readonly PipeWriter _writer;
    private readonly int _maxMessageSize;
    private readonly CancellationToken _callToken;
    private readonly SemaphoreSlim _lock = new(1, 1);

    internal ResponseStream(PipeWriter writer, int maxMessageSize, CancellationToken callToken)
    {
        _writer = writer;
        _maxMessageSize = maxMessageSize;
        _callToken = callToken;
    }

    /// <summary>Sends one response and flushes it to the client.</summary>
    public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_callToken, cancellationToken);
        await _lock.WaitAsync(linked.Token);
        try
        {
            await MessageFraming.WriteMessageAsync(_writer, message, _maxMessageSize, MessageCompression.None, linked.Token);
        }
        finally
        {
            _lock.Release();
        }
    }
}
