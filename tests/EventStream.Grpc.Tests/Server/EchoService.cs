using EventStream.Grpc.Server;
using EventStream.Interop.V1;
using Google.Protobuf.Reflection;

namespace EventStream.Grpc.Tests.Server;

/// <summary>interop.v1.Echo on our server, with the semantics echo.proto documents.</summary>
public sealed class EchoService : IGrpcService
{
    public static readonly ServiceDescriptor Descriptor = EchoReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Echo");
    public static readonly Method<EchoRequest, EchoResponse> Unary = Method<EchoRequest, EchoResponse>.FromDescriptor(Descriptor.FindMethodByName("Unary"));
    public static readonly Method<EchoRequest, EchoResponse> ServerStream = Method<EchoRequest, EchoResponse>.FromDescriptor(Descriptor.FindMethodByName("ServerStream"));
    public static readonly Method<EchoRequest, EchoResponse> ClientStream = Method<EchoRequest, EchoResponse>.FromDescriptor(Descriptor.FindMethodByName("ClientStream"));
    public static readonly Method<EchoRequest, EchoResponse> Duplex = Method<EchoRequest, EchoResponse>.FromDescriptor(Descriptor.FindMethodByName("Duplex"));

    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _delaying = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a handler sees its call cancelled.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>Completes when a handler starts the delay a request asked for.</summary>
    public Task Delaying => _delaying.Task;

    public IEnumerable<ServiceDescriptor> Services => [Descriptor];

    public void Bind(GrpcServiceBinder binder)
    {
        binder.Unary(Unary, async (request, context) =>
        {
            await StartAsync(request, context);
            return Respond(request, 0, context);
        });
        binder.ServerStreaming(ServerStream, async (request, responses, context) =>
        {
            await StartAsync(request, context, delay: false);
            for (var i = 0; i < request.Repeat; i++)
            {
                await DelayAsync(request, context);
                await responses.WriteAsync(Respond(request, i, context));
            }
            FailIfAsked(request, context);
        });
        binder.ClientStreaming(ClientStream, async (requests, context) =>
        {
            var messages = new List<string>();
            await foreach (var request in requests)
            {
                FailIfAsked(request, context);
                messages.Add(request.Message);
            }
            await StartAsync(new EchoRequest(), context);
            return Respond(new EchoRequest { Message = string.Join(",", messages) }, 0, context);
        });
        binder.DuplexStreaming(Duplex, async (requests, responses, context) =>
        {
            var index = 0;
            await foreach (var request in requests)
            {
                await DelayAsync(request, context);
                FailIfAsked(request, context);
                await responses.WriteAsync(Respond(request, index++, context));
            }
        });
    }

    private async Task StartAsync(EchoRequest request, ServerCallContext context, bool delay = true)
    {
        if (context.RequestHeaders.GetValue("x-echo-initial") is { } initial)
        {
            await context.WriteResponseHeadersAsync(new Metadata().Add("x-echo-initial", initial));
        }
        if (context.RequestHeaders.GetValue("x-echo-trailer") is { } trailer)
        {
            context.ResponseTrailers.Add("x-echo-trailer", trailer);
        }
        if (context.RequestHeaders.GetBytes("x-echo-trailer-bin") is { } bytes)
        {
            context.ResponseTrailers.Add("x-echo-trailer-bin", bytes);
        }
        if (delay)
        {
            await DelayAsync(request, context);
        }
        FailIfAsked(request, context);
    }

    private async Task DelayAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs <= 0)
        {
            return;
        }
        _delaying.TrySetResult();
        try
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            _cancelled.TrySetResult();
            throw;
        }
    }

    private static void FailIfAsked(EchoRequest request, ServerCallContext context)
    {
        if (request.FailWithCode != 0)
        {
            throw new GrpcException((GrpcStatusCode)request.FailWithCode, request.FailMessage);
        }
    }

    private static EchoResponse Respond(EchoRequest request, int index, ServerCallContext context)
    {
        var response = new EchoResponse { Message = request.Message, Index = index, PaddingSize = request.Padding.Length };
        foreach (var entry in context.RequestHeaders)
        {
            response.RequestHeaders[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes!) : entry.Value!;
        }
        return response;
    }
}
