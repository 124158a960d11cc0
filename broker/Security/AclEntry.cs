using EventStream.Protocol.V1;

namespace EventStream.Broker.Security;

/// <summary>One access control entry as stored in <c>eventstream.acls</c>.</summary>
internal sealed record AclEntry(
    long Id, string Principal, AclResourceType ResourceType, AclPatternType PatternType, string ResourceName,
    AclOperation Operation, AclPermission Permission, DateTime CreatedAt)
{
    /// <summary>The principal that stands for every authenticated principal.</summary>
    public const string AnyPrincipal = "*";

    public bool AppliesTo(string principal) => Principal == AnyPrincipal || Principal == principal;

    /// <summary>Whether the entry covers the resource <paramref name="name"/>.</summary>
    public bool Covers(string name) => PatternType == AclPatternType.Prefix
        ? name.StartsWith(ResourceName, StringComparison.Ordinal)
        : name == ResourceName;

    /// <summary>Whether the entry covers every name starting with <paramref name="prefix"/>.</summary>
    public bool CoversAllOf(string prefix) =>
        PatternType == AclPatternType.Prefix && prefix.StartsWith(ResourceName, StringComparison.Ordinal);

    /// <summary>Whether the entry covers at least one name starting with <paramref name="prefix"/>.</summary>
    public bool CoversSomeOf(string prefix) => PatternType == AclPatternType.Prefix
        ? prefix.StartsWith(ResourceName, StringComparison.Ordinal) || ResourceName.StartsWith(prefix, StringComparison.Ordinal)
        : ResourceName.StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>The stored spelling of the enums, as the table's CHECK constraints name them.</summary>
    public static string Spell(AclResourceType type) => type switch
    {
        AclResourceType.Topic => "topic",
        AclResourceType.Group => "group",
        AclResourceType.Cluster => "cluster",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static string Spell(AclOperation operation) => operation switch
    {
        AclOperation.Unspecified => throw new ArgumentOutOfRangeException(nameof(operation)),
        _ => operation.ToString().ToLowerInvariant(),
    };

    public static string Spell(AclPatternType pattern) => pattern == AclPatternType.Prefix ? "prefix" : "literal";

    public static string Spell(AclPermission permission) => permission == AclPermission.Deny ? "deny" : "allow";

    public static AclResourceType ParseResourceType(string value) => Enum.Parse<AclResourceType>(value, ignoreCase: true);

    public static AclOperation ParseOperation(string value) => Enum.Parse<AclOperation>(value, ignoreCase: true);

    public static AclPatternType ParsePatternType(string value) => Enum.Parse<AclPatternType>(value, ignoreCase: true);

    public static AclPermission ParsePermission(string value) => Enum.Parse<AclPermission>(value, ignoreCase: true);
}
