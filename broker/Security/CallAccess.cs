using EventStream.Broker.Validation;
using EventStream.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>
/// What the caller of a call may do, for <see cref="AccessInterceptor"/> and for handlers that check
/// per message or filter lists (<see cref="CheckedInHandlerAttribute"/>). With authentication off
/// every check passes at once and nothing else is done.
/// </summary>
internal sealed class CallAccess(IOptions<SecurityOptions> options, IServiceProvider services)
{
    private static readonly TimeSpan CatalogWait = TimeSpan.FromSeconds(10);

    private readonly SecurityCatalog? _catalog = options.Value.AuthenticationEnabled ? services.GetRequiredService<SecurityCatalog>() : null;
    private readonly AuditLog? _audit = options.Value.AuthenticationEnabled ? services.GetRequiredService<AuditLog>() : null;

    public bool Enabled => _catalog is not null;

    /// <summary>Throws PERMISSION_DENIED (and audits it) unless the caller may do <paramref name="operation"/> on the resource.</summary>
    /// <param name="isPattern">A subscription pattern: <paramref name="name"/> ends in '*' and the right is needed on every topic it may match.</param>
    public async ValueTask DemandAsync(ServerCallContext context, AclOperation operation, AclResourceType type, string name, bool isPattern = false)
    {
        if (_catalog is null)
        {
            return;
        }
        var principal = PrincipalOf(context);
        var acls = (await _catalog.GetAsync(CatalogWait, context.CancellationToken)).Acls;
        var prefix = isPattern && name.EndsWith('*');
        var resource = prefix ? name[..^1] : name;
        if (!acls.IsAllowed(principal, operation, type, resource, prefix))
        {
            var what = type == AclResourceType.Cluster ? "the cluster" : $"{AclEntry.Spell(type)} '{RequestRules.Echo(name)}'";
            _audit!.Denied(principal, AclEntry.Spell(operation), AclEntry.Spell(type), RequestRules.Echo(name), context.Method);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Principal '{RequestRules.Echo(principal)}' may not {AclEntry.Spell(operation)} {what}."));
        }
    }

    /// <summary>The items the caller may do <paramref name="operation"/> on (all with authentication off).</summary>
    public async ValueTask<IEnumerable<T>> FilterAsync<T>(ServerCallContext context, IEnumerable<T> items, AclOperation operation, AclResourceType type, Func<T, string> nameOf)
    {
        if (_catalog is null)
        {
            return items;
        }
        var principal = PrincipalOf(context);
        var acls = (await _catalog.GetAsync(CatalogWait, context.CancellationToken)).Acls;
        return items.Where(item => acls.IsAllowed(principal, operation, type, nameOf(item))).ToList();
    }

    /// <summary>The authenticated principal; the authorization middleware has already refused calls without one.</summary>
    public static string PrincipalOf(ServerCallContext context) =>
        CallerIdentity.NameOf(context.GetHttpContext().User)
        ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "This broker needs credentials."));
}
