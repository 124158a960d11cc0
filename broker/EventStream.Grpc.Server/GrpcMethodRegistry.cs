using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.Reflection;

namespace EventStream.Grpc.Server;

/// <summary>Every hosted service and bound method, built once from the registered <see cref="IGrpcService"/>s.</summary>
public sealed class GrpcMethodRegistry
{
    private readonly IReadOnlyDictionary<string, ServerMethod> _methods;

    /// <summary>Binds the given services.</summary>
    public GrpcMethodRegistry(IEnumerable<IGrpcService> services)
    {
        var binder = new GrpcServiceBinder();
        var descriptors = new List<ServiceDescriptor>();
        foreach (var service in services)
        {
            service.Bind(binder);
            descriptors.AddRange(service.Services);
        }
        _methods = binder.Methods;
        Services = descriptors.DistinctBy(s => s.FullName).OrderBy(s => s.FullName, StringComparer.Ordinal).ToList();
    }

    /// <summary>The hosted services, by name.</summary>
    public IReadOnlyList<ServiceDescriptor> Services { get; }

    internal bool TryGetMethod(string path, [MaybeNullWhen(false)] out ServerMethod method) => _methods.TryGetValue(path, out method);
}
