// Owns a minimal OTLP/HTTP trace receiver for tests: it accepts protobuf exports and keeps their spans.
using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventStream.Client.Tests.Fakes;

/// <summary>A span as exported: ids as lower-case hex, the name and the instrumentation scope that made it.</summary>
internal sealed record ExportedSpan(string Scope, string Name, string TraceId, string SpanId, string ParentSpanId);

/// <summary>
/// Receives what an OpenTelemetry OTLP exporter sends over HTTP/protobuf (<c>POST /v1/traces</c>;
/// other signals are accepted and ignored) and decodes the spans' ids and names straight from
/// the wire format (ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span).
/// </summary>
internal sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpTraceReceiver(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>For OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public string Address { get; }

    public ConcurrentQueue<ExportedSpan> Spans { get; } = new();

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        OtlpTraceReceiver? receiver = null;
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            ReadRequest(body.ToArray(), receiver!.Spans);
            return Results.Ok();
        });
        app.MapPost("/v1/{signal}", () => Results.Ok());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver = new OtlpTraceReceiver(app, address);
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private static void ReadRequest(byte[] request, ConcurrentQueue<ExportedSpan> spans)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                var scope = Fields(scopeSpans, 1).Select(s => Text(Fields(s, 1).FirstOrDefault())).FirstOrDefault() ?? "";
                foreach (var span in Fields(scopeSpans, 2))
                {
                    spans.Enqueue(new ExportedSpan(scope, Text(Fields(span, 5).FirstOrDefault()),
                        Hex(Fields(span, 1).FirstOrDefault()), Hex(Fields(span, 2).FirstOrDefault()), Hex(Fields(span, 4).FirstOrDefault())));
                }
            }
        }
    }

    /// <summary>The length-delimited values of one field number in a message (sub-messages, strings, bytes).</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var values = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                values.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }
        return values;
    }

    private static string Text(byte[]? value) => value is null ? "" : System.Text.Encoding.UTF8.GetString(value);

    private static string Hex(byte[]? value) => value is null ? "" : Convert.ToHexStringLower(value);
}
