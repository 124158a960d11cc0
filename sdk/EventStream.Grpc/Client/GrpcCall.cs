using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using EventStream.Grpc.Wire;
using Google.Protobuf;

namespace EventStream.Grpc.Client;

/// <summary>
/// One call in progress. Requests go through <see cref="WriteAsync"/> and
/// <see cref="CompleteRequestsAsync"/> (streaming calls); responses come from
/// <see cref="ResponseAsync"/> (one response) or <see cref="ReadAllAsync"/> (a stream).
/// Dispose it to cancel a call that has not finished.
/// </summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class GrpcCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CancellationToken _userToken;
    private readonly CancellationTokenSource? _deadline;
    private readonly CancellationTokenSource _call;
    private readonly RequestContent? _content;
    private readonly Task<HttpResponseMessage>? _send;
    private readonly MessageCompression _requestCompression;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lazy<Task<TResponse>> _singleResponse;
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private PipeWriter? _writer;
    private MessageCompression _responseCompression;
    private GrpcStatus? _status;
    private Metadata _trailers = Metadata.Empty;
    private bool _requestsCompleted;
    private bool _disposed;

    private GrpcCall(GrpcChannel channel, Method<TRequest, TResponse> method, TRequest? request, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _userToken = options.CancellationToken;
        _singleResponse = new Lazy<Task<TResponse>>(ReadSingleResponseAsync);
        _requestCompression = channel.Options.CompressRequests ? MessageCompression.Gzip : MessageCompression.None;

        TimeSpan? timeout = options.Deadline is { } deadline ? deadline.ToUniversalTime() - DateTime.UtcNow : null;
        if (timeout is { } t)
        {
            _deadline = new CancellationTokenSource(t > TimeSpan.Zero ? t : TimeSpan.Zero);
        }
        _call = _deadline is null
            ? CancellationTokenSource.CreateLinkedTokenSource(_userToken)
            : CancellationTokenSource.CreateLinkedTokenSource(_userToken, _deadline.Token);

        if (timeout <= TimeSpan.Zero)
        {
            Finish(new GrpcStatus(GrpcStatusCode.DeadlineExceeded, "The deadline passed before the call started."));
            return;
        }
        if (request is not null && request.CalculateSize() > channel.Options.MaxSendMessageSize)
        {
            Finish(new GrpcStatus(GrpcStatusCode.ResourceExhausted,
                $"Sending message of {request.CalculateSize()} bytes exceeds the limit of {channel.Options.MaxSendMessageSize} bytes."));
            return;
        }

        _content = new RequestContent(request, channel.Options.MaxSendMessageSize, _requestCompression);
        _call.Token.Register(static state => ((RequestContent)state!).Abort(), _content);
        _send = channel.Invoker.SendAsync(BuildRequest(options, timeout), _call.Token);
    }

    internal static GrpcCall<TRequest, TResponse> Start(GrpcChannel channel, Method<TRequest, TResponse> method, TRequest? request, CallOptions options) =>
        new(channel, method, request, options);

    /// <summary>The method called.</summary>
    public Method<TRequest, TResponse> Method => _method;

    /// <summary>The single response of a unary or client-streaming call.</summary>
    public Task<TResponse> ResponseAsync => _singleResponse.Value;

    /// <summary>The response headers, once the server has sent them.</summary>
    public async Task<Metadata> GetResponseHeadersAsync()
    {
        try
        {
            await EnsureResponseAsync(CancellationToken.None);
        }
        catch (GrpcException)
        {
            // Headers may still have arrived with the failure (trailers-only response).
        }
        return _headers.Task.IsCompleted ? await _headers.Task : Metadata.Empty;
    }

    /// <summary>The final status; throws if the call has not finished.</summary>
    public GrpcStatus GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished.");

    /// <summary>The trailing metadata; throws if the call has not finished.</summary>
    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("The call has not finished.") : _trailers;

    /// <summary>Sends one request message of a streaming call.</summary>
    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_requestsCompleted)
        {
            throw new InvalidOperationException("Requests were already completed.");
        }
        ThrowIfFinishedWithError();
        var content = _content ?? throw new InvalidOperationException("This call takes one request.");
        using var token = Link(cancellationToken);
        await _writeLock.WaitAsync(token.Token);
        try
        {
            var stream = await RequestStreamAsync(content, token.Token);
            _writer ??= PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
            await MessageFraming.WriteMessageAsync(_writer, message, _channel.Options.MaxSendMessageSize, _requestCompression, token.Token);
        }
        catch (Exception e) when (e is not GrpcException)
        {
            throw new GrpcException(_status ?? StatusOf(e), _trailers, e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// The request body once HttpClient opens it; if the call ends first (the connection was
    /// refused, or the server answered at once), the call's status instead of waiting forever.
    /// </summary>
    private async Task<Stream> RequestStreamAsync(RequestContent content, CancellationToken cancellationToken)
    {
        var opened = content.Stream;
        if (!opened.IsCompleted)
        {
            await Task.WhenAny(opened, _send!).WaitAsync(cancellationToken);
        }
        if (opened.IsCompleted)
        {
            return await opened;
        }
        await EnsureResponseAsync(cancellationToken);
        Finish(new GrpcStatus(GrpcStatusCode.Internal, "The server ended the call before its requests were sent."));
        throw new GrpcException(_status!.Value, _trailers);
    }

    /// <summary>Tells the server no more requests follow.</summary>
    public async Task CompleteRequestsAsync()
    {
        if (_requestsCompleted || _content is null)
        {
            return;
        }
        await _writeLock.WaitAsync();
        try
        {
            _requestsCompleted = true;
            if (_writer is not null)
            {
                await _writer.CompleteAsync();
            }
            _content.Complete();
        }
        catch (Exception e) when (e is not GrpcException)
        {
            throw new GrpcException(_status ?? StatusOf(e), _trailers, e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Reads the next response, or null once the call ended with OK; throws
    /// <see cref="GrpcException"/> when it ended otherwise.
    /// </summary>
    public async ValueTask<TResponse?> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        using var token = Link(cancellationToken);
        try
        {
            await EnsureResponseAsync(token.Token);
            if (_reader is null)
            {
                ThrowIfFinishedWithError();
                return null;
            }
            var message = await MessageFraming.ReadMessageAsync(_reader, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, _responseCompression, token.Token);
            if (message is not null)
            {
                return message;
            }
            await _reader.CompleteAsync();
            _reader = null;
            Finish(ReadTrailers());
            ThrowIfFinishedWithError();
            return null;
        }
        catch (GrpcException e) when (_status is null)
        {
            // A local failure (size limit, malformed data): the call is over for both sides.
            Finish(e.Status);
            _call.Cancel();
            throw;
        }
        catch (Exception e) when (e is not GrpcException)
        {
            Finish(StatusOf(e));
            _call.Cancel();
            throw new GrpcException(_status!.Value, _trailers, e);
        }
    }

    /// <summary>Reads every response until the call ends.</summary>
    public async IAsyncEnumerable<TResponse> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadNextAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_status is null)
        {
            Finish(new GrpcStatus(GrpcStatusCode.Cancelled, "The call was disposed before it finished."));
            _call.Cancel();
        }
        _content?.Abort();
        _response?.Dispose();
        _call.Dispose();
        _deadline?.Dispose();
    }

    private HttpRequestMessage BuildRequest(CallOptions options, TimeSpan? timeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _channel.Address.AbsoluteUri.TrimEnd('/') + _method.FullName)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = _content,
        };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", _channel.Options.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.SupportedEncodings);
        if (_requestCompression == MessageCompression.Gzip)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.EncodingHeader, GrpcProtocol.GzipEncoding);
        }
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(t));
        }
        foreach (var entry in options.Headers ?? Metadata.Empty)
        {
            headers.TryAddWithoutValidation(entry.Key, entry.WireValue);
        }
        return request;
    }

    private async ValueTask EnsureResponseAsync(CancellationToken cancellationToken)
    {
        if (_response is not null || _send is null)
        {
            return;
        }
        HttpResponseMessage response;
        try
        {
            response = await _send.WaitAsync(cancellationToken);
        }
        catch (Exception e)
        {
            Finish(StatusOf(e));
            throw new GrpcException(_status!.Value, innerException: e);
        }
        _response = response;
        _headers.TrySetResult(ReadMetadata(response.Headers));

        if (response.StatusCode != HttpStatusCode.OK)
        {
            Finish(new GrpcStatus(StatusForHttp(response.StatusCode), $"Bad gRPC response: HTTP status {(int)response.StatusCode}."));
            return;
        }
        if (response.Headers.Contains(GrpcProtocol.StatusTrailer))
        {
            // Trailers-only response: the call ended without messages.
            Finish(ReadStatus(response.Headers, response.Headers));
            return;
        }
        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            Finish(new GrpcStatus(GrpcStatusCode.Internal, $"Bad gRPC response: content type '{contentType}'."));
            return;
        }
        var encoding = response.Headers.TryGetValues(GrpcProtocol.EncodingHeader, out var values) ? values.FirstOrDefault() : null;
        _responseCompression = GrpcProtocol.ParseEncoding(encoding)
            ?? throw new GrpcException(GrpcStatusCode.Internal, $"The server sent messages compressed with unsupported '{encoding}'.");
        _reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(cancellationToken));
    }

    private async Task<TResponse> ReadSingleResponseAsync()
    {
        if (_method.Type is MethodType.ServerStreaming or MethodType.DuplexStreaming)
        {
            throw new InvalidOperationException($"{_method} returns a stream; use ReadAllAsync.");
        }
        var response = await ReadNextAsync();
        if (response is null)
        {
            Finish(new GrpcStatus(GrpcStatusCode.Internal, "The server ended the call with OK but sent no response."));
            ThrowIfFinishedWithError();
        }
        if (await ReadNextAsync() is not null)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "The server sent more than one response to a unary call.");
        }
        return response!;
    }

    private GrpcStatus ReadTrailers()
    {
        var trailers = _response!.TrailingHeaders;
        _trailers = ReadMetadata(trailers);
        return trailers.Contains(GrpcProtocol.StatusTrailer)
            ? ReadStatus(trailers, trailers)
            : new GrpcStatus(GrpcStatusCode.Internal, "The response ended without a grpc-status trailer.");
    }

    private GrpcStatus ReadStatus(System.Net.Http.Headers.HttpHeaders statusHeaders, System.Net.Http.Headers.HttpHeaders metadataHeaders)
    {
        _trailers = ReadMetadata(metadataHeaders);
        var codeText = statusHeaders.GetValues(GrpcProtocol.StatusTrailer).First();
        var message = statusHeaders.TryGetValues(GrpcProtocol.MessageTrailer, out var messages) ? PercentEncoding.Decode(messages.First()) : "";
        return int.TryParse(codeText, System.Globalization.CultureInfo.InvariantCulture, out var code)
            ? new GrpcStatus((GrpcStatusCode)code, message)
            : new GrpcStatus(GrpcStatusCode.Unknown, $"Unparsable grpc-status '{codeText}'.");
    }

    private static Metadata ReadMetadata(System.Net.Http.Headers.HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (GrpcProtocol.IsReservedHeader(name))
            {
                continue;
            }
            foreach (var value in values)
            {
                metadata.AddWireValue(name, value);
            }
        }
        return metadata;
    }

    private void Finish(GrpcStatus status) => _status ??= status;

    private void ThrowIfFinishedWithError()
    {
        if (_status is { Code: not GrpcStatusCode.OK } status)
        {
            throw new GrpcException(status, _trailers);
        }
    }

    private GrpcStatus StatusOf(Exception e)
    {
        if (_deadline?.IsCancellationRequested == true)
        {
            return new GrpcStatus(GrpcStatusCode.DeadlineExceeded, "The deadline was exceeded.");
        }
        if (_userToken.IsCancellationRequested || e is OperationCanceledException)
        {
            return new GrpcStatus(GrpcStatusCode.Cancelled, "The call was cancelled.");
        }
        return e is HttpRequestException or IOException
            ? new GrpcStatus(GrpcStatusCode.Unavailable, $"Error talking to {_channel.Address}: {e.Message}")
            : new GrpcStatus(GrpcStatusCode.Unknown, e.Message);
    }

    private CancellationTokenSource Link(CancellationToken cancellationToken) =>
        CancellationTokenSource.CreateLinkedTokenSource(_call.Token, cancellationToken);

    private static GrpcStatusCode StatusForHttp(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };
}
