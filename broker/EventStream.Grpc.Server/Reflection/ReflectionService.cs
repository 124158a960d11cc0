using EventStream.Protocol.Methods;
using EventStream.Protocol.Reflection.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace EventStream.Grpc.Server.Reflection;

/// <summary>
/// gRPC server reflection (v1 and v1alpha, which share a wire format): lists the hosted services
/// and serves the file descriptors that describe them, so grpcurl needs no .proto files.
/// </summary>
/// <param name="services">Resolves the registry on first use: the registry is built from this service too.</param>
public sealed class ReflectionService(IServiceProvider services) : IGrpcService
{
    private readonly Lazy<DescriptorIndex> _index = new(() =>
        new DescriptorIndex(((GrpcMethodRegistry)services.GetService(typeof(GrpcMethodRegistry))!).Services));

    /// <inheritdoc />
    public IEnumerable<ServiceDescriptor> Services => [ReflectionMethods.Service, ReflectionMethods.ServiceV1Alpha];

    /// <inheritdoc />
    public void Bind(GrpcServiceBinder binder)
    {
        binder.DuplexStreaming(ReflectionMethods.ServerReflectionInfo, HandleAsync);
        binder.DuplexStreaming(ReflectionMethods.ServerReflectionInfoV1Alpha, HandleAsync);
    }

    private async Task HandleAsync(RequestStream<ServerReflectionRequest> requests, ResponseStream<ServerReflectionResponse> responses, ServerCallContext context)
    {
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            await responses.WriteAsync(Answer(request), context.CancellationToken);
        }
    }

    internal ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var index = _index.Value;
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                list.Service.Add(index.ServiceNames.Select(name => new ServiceResponse { Name = name }));
                response.ListServicesResponse = list;
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                SetFile(response, index.FindFile(request.FileByFilename), $"File '{request.FileByFilename}' not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                SetFile(response, index.FindFileContainingSymbol(request.FileContainingSymbol), $"Symbol '{request.FileContainingSymbol}' not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                if (index.FindFileContainingSymbol(request.AllExtensionNumbersOfType) is null)
                {
                    SetError(response, GrpcStatusCode.NotFound, $"Type '{request.AllExtensionNumbersOfType}' not found.");
                }
                else
                {
                    // The contract defines no extensions.
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                }
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                SetError(response, GrpcStatusCode.NotFound, "Extensions are not used by this server.");
                break;
            default:
                SetError(response, GrpcStatusCode.InvalidArgument, "The reflection request names no query.");
                break;
        }
        return response;
    }

    private static void SetFile(ServerReflectionResponse response, FileDescriptor? file, string notFound)
    {
        if (file is null)
        {
            SetError(response, GrpcStatusCode.NotFound, notFound);
            return;
        }
        var files = new FileDescriptorResponse();
        files.FileDescriptorProto.Add(DescriptorIndex.WithDependencies(file).Select(f => f.SerializedData));
        response.FileDescriptorResponse = files;
    }

    private static void SetError(ServerReflectionResponse response, GrpcStatusCode code, string message) =>
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
}
