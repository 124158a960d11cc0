using EventStream.Broker.Security;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Broker.Services;

/// <summary>eventstream.v1.Security: the caller's identity, API keys and ACLs.</summary>
internal sealed class SecurityService(SecurityAdmin admin, CallAccess access, SecurityCatalog? catalog = null) : EventStream.Protocol.V1.Security.SecurityBase
{
    [AuthenticatedOnly]
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context)
    {
        if (!access.Enabled)
        {
            return Task.FromResult(new WhoAmIResponse { Principal = "", Mechanism = "anonymous" });
        }
        var user = context.GetHttpContext().User;
        var principal = CallAccess.PrincipalOf(context);
        return Task.FromResult(new WhoAmIResponse
        {
            Principal = principal,
            Mechanism = CallerIdentity.MechanismOf(user),
            SuperUser = catalog?.Current?.Acls.IsSuperUser(principal) == true,
        });
    }

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context)
    {
        var (stored, key) = await admin.CreateKeyAsync(request.Principal, request.Description, context.CancellationToken);
        return new CreateApiKeyResponse { Key = ToMessage(stored), Secret = key };
    }

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context)
    {
        var response = new ListApiKeysResponse();
        response.Keys.Add((await admin.ListKeysAsync(request.Principal, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<RevokeApiKeyResponse> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context)
    {
        await admin.RevokeKeyAsync(request.KeyId, context.CancellationToken);
        return new RevokeApiKeyResponse();
    }

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<Acl> AddAcl(AddAclRequest request, ServerCallContext context) =>
        ToMessage(await admin.AddAclAsync(request.Acl, context.CancellationToken));

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<ListAclsResponse> ListAcls(ListAclsRequest request, ServerCallContext context)
    {
        var response = new ListAclsResponse();
        response.Acls.Add((await admin.ListAclsAsync(request.Principal, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    [Requires(AclOperation.Admin, AclResourceType.Cluster)]
    public override async Task<RemoveAclResponse> RemoveAcl(RemoveAclRequest request, ServerCallContext context)
    {
        await admin.RemoveAclAsync(request.AclId, context.CancellationToken);
        return new RemoveAclResponse();
    }

    private static ApiKey ToMessage(StoredApiKey key)
    {
        var message = new ApiKey
        {
            KeyId = key.KeyId,
            Principal = key.Principal,
            Description = key.Description,
            CreatedTime = Timestamp.FromDateTime(DateTime.SpecifyKind(key.CreatedAt, DateTimeKind.Utc)),
        };
        if (key.RevokedAt is { } revoked)
        {
            message.RevokedTime = Timestamp.FromDateTime(DateTime.SpecifyKind(revoked, DateTimeKind.Utc));
        }
        return message;
    }

    private static Acl ToMessage(AclEntry entry) => new()
    {
        AclId = entry.Id,
        Principal = entry.Principal,
        ResourceType = entry.ResourceType,
        PatternType = entry.PatternType,
        ResourceName = entry.ResourceName,
        Operation = entry.Operation,
        Permission = entry.Permission,
        CreatedTime = Timestamp.FromDateTime(DateTime.SpecifyKind(entry.CreatedAt, DateTimeKind.Utc)),
    };
}
