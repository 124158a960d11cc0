using EventStream.Protocol.V1;

namespace EventStream.Broker.Security;

/// <summary>
/// How a gRPC method is authorized, declared on its handler. With authentication configured, a
/// method without one of these attributes is refused (fail closed), so a new RPC cannot slip
/// through unchecked: <c>AccessRuleTests</c> also asserts every method has one.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
internal abstract class AccessRuleAttribute : Attribute;

/// <summary>
/// The caller needs <paramref name="operation"/> on the resource named by the request field
/// <paramref name="field"/> (a proto field path such as <c>subscription.group</c>; a repeated field
/// needs the right on each name; an unset message on the path needs nothing). Checked by
/// <see cref="AccessInterceptor"/> before the handler runs, and on every message of a request stream.
/// Without a field (cluster rights) the resource is the cluster.
/// </summary>
/// <example><c>[Requires(AclOperation.Consume, AclResourceType.Topic, "topic")]</c> on a Read handler.</example>
internal sealed class RequiresAttribute(AclOperation operation, AclResourceType resourceType, string? field = null) : AccessRuleAttribute
{
    public AclOperation Operation { get; } = operation;

    public AclResourceType ResourceType { get; } = resourceType;

    public string? Field { get; } = field;

    /// <summary>Names ending in '*' are subscription prefixes: the right is needed on every topic they may match.</summary>
    public bool AllowsPatterns { get; init; }
}

/// <summary>
/// The caller must be authenticated; the handler checks <paramref name="operation"/> itself through
/// <see cref="CallAccess"/>, e.g. per batch of a produce stream (so a refused batch is answered in the
/// stream) or by filtering a list down to what the caller may see.
/// </summary>
internal sealed class CheckedInHandlerAttribute(AclOperation operation, AclResourceType resourceType) : AccessRuleAttribute
{
    public AclOperation Operation { get; } = operation;

    public AclResourceType ResourceType { get; } = resourceType;
}

/// <summary>Any authenticated caller may call the method (it reveals only the caller's own identity).</summary>
internal sealed class AuthenticatedOnlyAttribute : AccessRuleAttribute;
