using System.IO.Pipelines;
using EventStream.Grpc.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventStream.Grpc.Server;

/// <summary>
/// Serves one HTTP/2 request as a gRPC call: checks the protocol, finds the method, applies
/// the deadline and limits, runs the handler and ends the call with a status.
/// </summary>
internal sealed class GrpcRequestDispatcher(GrpcMethodRegistry registry, IOptions<GrpcServerOptions> options, ILogger<GrpcRequestDispatcher> logger)
{
    private readonly GrpcServerOptions _options = options.Value;

    public async Task DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        var path = request.Path.Value ?? "";
        if (!HttpMethods.IsPost(request.Method))
        {
            await RejectAsync(http, StatusCodes.Status405MethodNotAllowed, "gRPC calls are POST requests.");
            return;
        }
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            await RejectAsync(http, StatusCodes.Status415UnsupportedMediaType, "This is a gRPC endpoint: send content-type application/grpc over HTTP/2.");
            return;
        }
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            await RejectAsync(http, StatusCodes.Status426UpgradeRequired, "gRPC needs HTTP/2.");
            return;
        }

        // Streams may stay open and idle for hours; the per-message limit protects memory instead.
        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.SupportedEncodings;

        using var deadline = ParseDeadline(request, out var deadlineUtc, out var timeoutError);
        using var callToken = deadline is null
            ? CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, deadline.Token);
        var context = new ServerCallContext(http, path, ReadMetadata(request.Headers), deadlineUtc, callToken.Token);
        GrpcServerLog.CallStarted(logger, path, context.Peer);

        GrpcStatus status;
        var encodingHeader = request.Headers[GrpcProtocol.EncodingHeader].ToString();
        var compression = GrpcProtocol.ParseEncoding(encodingHeader);
        if (timeoutError is not null)
        {
            status = new GrpcStatus(GrpcStatusCode.Internal, timeoutError);
        }
        else if (compression is null)
        {
            status = new GrpcStatus(GrpcStatusCode.Unimplemented, $"Message compression '{encodingHeader}' is not supported; use one of: {GrpcProtocol.SupportedEncodings}.");
        }
        else if (!registry.TryGetMethod(path, out var method))
        {
            GrpcServerLog.UnknownMethod(logger, path);
            status = new GrpcStatus(GrpcStatusCode.Unimplemented, $"Method {path} is not implemented.");
        }
        else
        {
            status = await InvokeAsync(method, context, request.BodyReader, response.BodyWriter, compression.Value, deadline);
        }

        GrpcServerLog.CallEnded(logger, path, status.Code, status.Detail);
        await EndCallAsync(http, status, context.ResponseTrailers);
    }

    private async Task<GrpcStatus> InvokeAsync(ServerMethod method, ServerCallContext context, PipeReader body, PipeWriter output, MessageCompression compression, CancellationTokenSource? deadline)
    {
        try
        {
            await method.InvokeAsync(context, body, output, compression, _options);
            return deadline?.IsCancellationRequested == true ? DeadlineExceeded() : GrpcStatus.Ok;
        }
        catch (GrpcException e)
        {
            foreach (var entry in e.Trailers)
            {
                AddEntry(context.ResponseTrailers, entry);
            }
            return e.Status;
        }
        catch (Exception) when (deadline?.IsCancellationRequested == true)
        {
            return DeadlineExceeded();
        }
        catch (Exception) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return new GrpcStatus(GrpcStatusCode.Cancelled, "The call was cancelled by the client.");
        }
        catch (Exception e)
        {
            GrpcServerLog.HandlerFailed(logger, context.Method, e);
            return new GrpcStatus(GrpcStatusCode.Unknown, "The server failed to handle the call.");
        }
    }

    private static GrpcStatus DeadlineExceeded() => new(GrpcStatusCode.DeadlineExceeded, "The deadline was exceeded.");

    private static CancellationTokenSource? ParseDeadline(HttpRequest request, out DateTime? deadlineUtc, out string? error)
    {
        deadlineUtc = null;
        error = null;
        var header = request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        if (header.Length == 0)
        {
            return null;
        }
        if (!GrpcTimeout.TryParse(header, out var timeout))
        {
            error = $"Malformed grpc-timeout '{header}'.";
            return null;
        }
        // CancellationTokenSource takes at most ~24.8 days; longer deadlines never fire in practice.
        var max = TimeSpan.FromMilliseconds(int.MaxValue - 1);
        if (timeout > max)
        {
            return null;
        }
        deadlineUtc = DateTime.UtcNow + timeout;
        return new CancellationTokenSource(timeout);
    }

    private static Metadata ReadMetadata(IHeaderDictionary headers)
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
                if (value is not null)
                {
                    metadata.AddWireValue(name, value);
                }
            }
        }
        return metadata;
    }

    private static async Task EndCallAsync(HttpContext http, GrpcStatus status, Metadata trailers)
    {
        var response = http.Response;
        if (!response.HasStarted)
        {
            // Trailers-only response: the status travels in the only HEADERS frame.
            WriteStatus(response.Headers, status, trailers);
            return;
        }
        await response.BodyWriter.FlushAsync();
        if (response.SupportsTrailers())
        {
            var target = new HeaderDictionary();
            WriteStatus(target, status, trailers);
            foreach (var (name, value) in target)
            {
                response.AppendTrailer(name, value);
            }
        }
    }

    private static void WriteStatus(IHeaderDictionary headers, GrpcStatus status, Metadata trailers)
    {
        headers[GrpcProtocol.StatusTrailer] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status.Detail.Length > 0)
        {
            headers[GrpcProtocol.MessageTrailer] = PercentEncoding.Encode(status.Detail);
        }
        foreach (var entry in trailers)
        {
            headers.Append(entry.Key, entry.WireValue);
        }
    }

    private static void AddEntry(Metadata target, Metadata.Entry entry)
    {
        if (entry.ValueBytes is { } bytes)
        {
            target.Add(entry.Key, bytes);
        }
        else
        {
            target.Add(entry.Key, entry.Value!);
        }
    }

    private async Task RejectAsync(HttpContext http, int statusCode, string reason)
    {
        GrpcServerLog.RejectedRequest(logger, http.Request.Path.Value ?? "", reason);
        http.Response.StatusCode = statusCode;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(reason + "\n", http.RequestAborted);
    }
}
