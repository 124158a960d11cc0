using System.Net;
using System.Net.Http.Headers;
using EventStream.Grpc.Wire;
using Google.Protobuf;

namespace EventStream.Grpc.Client;

/// <summary>
/// The request body of a call. HttpClient asks for it once and keeps the request stream open
/// until <see cref="SerializeToStreamAsync(Stream, TransportContext?, CancellationToken)"/>
/// returns, so a streaming call holds it open until the caller completes its requests.
/// </summary>
internal sealed class RequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IMessage? _singleRequest;
    private readonly int _maxMessageSize;
    private readonly MessageCompression _compression;

    public RequestContent(IMessage? singleRequest, int maxMessageSize, MessageCompression compression)
    {
        _singleRequest = singleRequest;
        _maxMessageSize = maxMessageSize;
        _compression = compression;
        Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
    }

    /// <summary>The request stream, once HttpClient has opened it.</summary>
    public Task<Stream> Stream => _stream.Task;

    /// <summary>Ends the request stream.</summary>
    public void Complete() => _completed.TrySetResult();

    /// <summary>Stops waiting for requests; the call is being torn down.</summary>
    public void Abort() => _completed.TrySetCanceled();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (_singleRequest is not null)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            MessageFraming.WriteMessage(buffer, _singleRequest, _maxMessageSize, _compression);
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
            return;
        }
        _stream.TrySetResult(stream);
        await _completed.Task;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
