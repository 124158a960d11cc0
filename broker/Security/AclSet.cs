using System.Collections.Concurrent;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Security;

/// <summary>
/// Decides what a principal may do from one load of the ACLs: deny wins over allow; admin on the
/// cluster is every right; describe is implied by any other right allowed on the same resource;
/// super users have every right. Decisions are cached, so a call costs one dictionary lookup; a
/// new load (after any change) starts with an empty cache.
/// </summary>
internal sealed class AclSet
{
    private const int MaxCachedDecisions = 100_000;

    private readonly AclEntry[] _entries;
    private readonly HashSet<string> _superUsers;
    private readonly ConcurrentDictionary<Decision, bool> _decisions = new();

    public AclSet(IEnumerable<AclEntry> entries, IEnumerable<string> superUsers)
    {
        _entries = [.. entries];
        _superUsers = new HashSet<string>(superUsers, StringComparer.Ordinal);
    }

    public IReadOnlyList<AclEntry> Entries => _entries;

    public bool IsSuperUser(string principal) => _superUsers.Contains(principal);

    /// <summary>
    /// Whether <paramref name="principal"/> may do <paramref name="operation"/> on the resource;
    /// with <paramref name="isPrefix"/>, on every resource whose name starts with <paramref name="name"/>.
    /// </summary>
    public bool IsAllowed(string principal, AclOperation operation, AclResourceType type, string name, bool isPrefix = false)
    {
        var key = new Decision(principal, operation, type, name, isPrefix);
        if (_decisions.TryGetValue(key, out var allowed))
        {
            return allowed;
        }
        allowed = Decide(principal, operation, type, name, isPrefix);
        if (_decisions.Count >= MaxCachedDecisions)
        {
            _decisions.Clear();
        }
        _decisions[key] = allowed;
        return allowed;
    }

    private bool Decide(string principal, AclOperation operation, AclResourceType type, string name, bool isPrefix)
    {
        var denied = false;
        var allowed = _superUsers.Contains(principal);
        foreach (var entry in _entries)
        {
            if (!entry.AppliesTo(principal))
            {
                continue;
            }
            if (entry.Permission == AclPermission.Deny)
            {
                denied |= entry.ResourceType == type && entry.Operation == operation && (isPrefix ? entry.CoversSomeOf(name) : entry.Covers(name));
            }
            else if (entry.ResourceType == AclResourceType.Cluster && entry.Operation == AclOperation.Admin)
            {
                allowed = true;
            }
            else if (entry.ResourceType == type
                && (entry.Operation == operation || (operation == AclOperation.Describe && entry.Operation != AclOperation.Admin))
                && (isPrefix ? entry.CoversAllOf(name) : entry.Covers(name)))
            {
                allowed = true;
            }
        }
        return allowed && !denied;
    }

    private readonly record struct Decision(string Principal, AclOperation Operation, AclResourceType Type, string Name, bool IsPrefix);
}
