using EventStream.Broker.Validation;
using EventStream.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>
/// Creates, lists and revokes API keys and adds, lists and removes ACL entries (the methods of
/// eventstream.v1.Security), validating each field. A change is in force on this broker before it is
/// answered, and on the others once the database's notification reaches them.
/// </summary>
internal sealed class SecurityAdmin(SecurityStore store, IOptions<SecurityOptions> options, IServiceProvider services, ILogger<SecurityAdmin> logger)
{
    public const int MaxPrincipalLength = 256;
    private const int MaxDescriptionLength = 1024;

    private readonly SecurityCatalog? _catalog = options.Value.AuthenticationEnabled ? services.GetRequiredService<SecurityCatalog>() : null;

    /// <summary>A new key for <paramref name="principal"/>, and the key itself (shown only now).</summary>
    public async Task<(StoredApiKey Stored, string Key)> CreateKeyAsync(string principal, string description, CancellationToken cancellationToken)
    {
        ValidatePrincipal("principal", principal, allowAny: false);
        RequestRules.Text("description", description, MaxDescriptionLength);
        var (keyId, key) = ApiKeySecret.Generate();
        var iterations = options.Value.ApiKeys.HashIterations;
        var (salt, hash) = await Task.Run(() => ApiKeySecret.Hash(key, iterations), cancellationToken);
        var stored = await store.AddKeyAsync(keyId, principal, description, iterations, salt, hash, cancellationToken);
        SecurityLog.ApiKeyCreated(logger, keyId, principal);
        await ReloadAsync(cancellationToken);
        return (stored, key);
    }

    public Task<List<StoredApiKey>> ListKeysAsync(string principal, CancellationToken cancellationToken)
    {
        if (principal.Length > 0)
        {
            ValidatePrincipal("principal", principal, allowAny: false);
        }
        return store.ListKeysAsync(principal.Length > 0 ? principal : null, activeOnly: false, cancellationToken);
    }

    public async Task RevokeKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        RequestRules.Text("key_id", keyId, 64, required: true);
        if (!await store.RevokeKeyAsync(keyId, cancellationToken))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"API key '{RequestRules.Echo(keyId)}' does not exist."));
        }
        SecurityLog.ApiKeyRevoked(logger, keyId);
        await ReloadAsync(cancellationToken);
    }

    public async Task<AclEntry> AddAclAsync(Acl? acl, CancellationToken cancellationToken)
    {
        var entry = Validate(acl ?? throw RequestRules.Invalid("acl", "is required"));
        var added = await store.AddAclAsync(entry, cancellationToken);
        SecurityLog.AclChanged(logger, added.Id, "added", added.Principal, AclEntry.Spell(added.Permission), AclEntry.Spell(added.Operation),
            AclEntry.Spell(added.ResourceType), AclEntry.Spell(added.PatternType), added.ResourceName);
        await ReloadAsync(cancellationToken);
        return added;
    }

    public Task<List<AclEntry>> ListAclsAsync(string principal, CancellationToken cancellationToken)
    {
        if (principal.Length > 0)
        {
            ValidatePrincipal("principal", principal, allowAny: true);
        }
        return store.ListAclsAsync(principal.Length > 0 ? principal : null, cancellationToken);
    }

    public async Task RemoveAclAsync(long aclId, CancellationToken cancellationToken)
    {
        if (!await store.RemoveAclAsync(aclId, cancellationToken))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"ACL {aclId} does not exist."));
        }
        SecurityLog.AclChanged(logger, aclId, "removed", "", "", "", "", "", "");
        await ReloadAsync(cancellationToken);
    }

    /// <summary>An ACL entry from a request, or INVALID_ARGUMENT naming the field that is wrong.</summary>
    public static AclEntry Validate(Acl acl)
    {
        ValidatePrincipal("acl.principal", acl.Principal, allowAny: true);
        if (acl.ResourceType == AclResourceType.Unspecified || !Enum.IsDefined(acl.ResourceType))
        {
            throw RequestRules.Invalid("acl.resource_type", "must be topic, group or cluster");
        }
        if (acl.Operation == AclOperation.Unspecified || !Enum.IsDefined(acl.Operation))
        {
            throw RequestRules.Invalid("acl.operation", "must be produce, consume, describe, create, delete, alter or admin");
        }
        if (!Enum.IsDefined(acl.PatternType))
        {
            throw RequestRules.Invalid("acl.pattern_type", "must be literal or prefix");
        }
        if (!Enum.IsDefined(acl.Permission))
        {
            throw RequestRules.Invalid("acl.permission", "must be allow or deny");
        }
        var (pattern, name) = (acl.PatternType, acl.ResourceName);
        if (acl.ResourceType == AclResourceType.Cluster)
        {
            // The cluster is one resource: its name is not kept.
            (pattern, name) = (AclPatternType.Literal, "");
        }
        else if (pattern == AclPatternType.Literal)
        {
            RequestRules.Name("acl.resource_name", name);
        }
        else if (name.Length > 0)
        {
            RequestRules.Name("acl.resource_name", name);
        }
        return new AclEntry(0, acl.Principal, acl.ResourceType, pattern, name, acl.Operation, acl.Permission, default);
    }

    private static void ValidatePrincipal(string field, string principal, bool allowAny)
    {
        RequestRules.Text(field, principal, MaxPrincipalLength, required: true);
        if (principal.Any(char.IsControl))
        {
            throw RequestRules.Invalid(field, "must not hold control characters");
        }
        if (!allowAny && principal == AclEntry.AnyPrincipal)
        {
            throw RequestRules.Invalid(field, "must name one principal, not '*'");
        }
    }

    private Task ReloadAsync(CancellationToken cancellationToken) =>
        _catalog?.ReloadAsync(force: false, cancellationToken) ?? Task.CompletedTask;
}
