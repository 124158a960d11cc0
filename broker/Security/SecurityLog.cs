namespace EventStream.Broker.Security;

/// <summary>Log messages of authentication and authorization; event ids 2000-2099. Secrets never appear here.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(2000, LogLevel.Warning, "Authentication failed for {Method} from {Remote} ({Mechanism}): {Reason}", EventName = "AuthenticationFailed")]
    public static partial void AuthenticationFailed(ILogger logger, string method, string remote, string mechanism, string reason);

    [LoggerMessage(2001, LogLevel.Warning, "Unauthenticated call to {Method} from {Remote} refused", EventName = "Unauthenticated")]
    public static partial void Unauthenticated(ILogger logger, string method, string remote);

    [LoggerMessage(2002, LogLevel.Warning, "Denied {Principal} {Operation} on {ResourceType} '{Resource}' in {Method}", EventName = "AccessDenied")]
    public static partial void AccessDenied(ILogger logger, string principal, string operation, string resourceType, string resource, string method);

    [LoggerMessage(2003, LogLevel.Warning, "{Suppressed} more audit lines were not logged in the last minute (EventStream:Security:AuditLogsPerMinute)", EventName = "AuditSuppressed")]
    public static partial void AuditSuppressed(ILogger logger, long suppressed);

    [LoggerMessage(2004, LogLevel.Information, "Security settings loaded: version {Version}, {Keys} active API keys, {Acls} ACL entries", EventName = "CatalogLoaded")]
    public static partial void CatalogLoaded(ILogger logger, long version, int keys, int acls);

    [LoggerMessage(2005, LogLevel.Warning, "Listening for security changes failed; reloading and listening again", EventName = "CatalogListenFailed")]
    public static partial void CatalogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(2006, LogLevel.Information, "API key {KeyId} created for {Principal}", EventName = "ApiKeyCreated")]
    public static partial void ApiKeyCreated(ILogger logger, string keyId, string principal);

    [LoggerMessage(2007, LogLevel.Information, "API key {KeyId} revoked", EventName = "ApiKeyRevoked")]
    public static partial void ApiKeyRevoked(ILogger logger, string keyId);

    [LoggerMessage(2008, LogLevel.Information, "ACL {AclId} {Change}: {Principal} {Permission} {Operation} on {ResourceType} {PatternType} '{Resource}'", EventName = "AclChanged")]
    public static partial void AclChanged(ILogger logger, long aclId, string change, string principal, string permission, string operation, string resourceType, string patternType, string resource);

    [LoggerMessage(2009, LogLevel.Error, "A call to {Method} has no access rule; refused", EventName = "NoAccessRule")]
    public static partial void NoAccessRule(ILogger logger, string method);
}
