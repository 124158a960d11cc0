using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>
/// Refused credentials and denied operations, logged with principal, RPC and resource (never a
/// secret) at most <see cref="SecurityOptions.AuditLogsPerMinute"/> times a minute, so a flood of
/// bad calls cannot fill the disk; what is held back is counted in one line per minute.
/// </summary>
internal sealed class AuditLog(ILogger<AuditLog> logger, IOptions<SecurityOptions> options, TimeProvider time)
{
    private readonly int _perMinute = options.Value.AuditLogsPerMinute;
    private readonly Lock _gate = new();
    private long _windowStart = long.MinValue;
    private int _logged;
    private long _suppressed;

    public void AuthenticationFailed(string method, string remote, string mechanism, string reason)
    {
        if (Admit())
        {
            SecurityLog.AuthenticationFailed(logger, method, remote, mechanism, reason);
        }
    }

    public void Unauthenticated(string method, string remote)
    {
        if (Admit())
        {
            SecurityLog.Unauthenticated(logger, method, remote);
        }
    }

    public void Denied(string principal, string operation, string resourceType, string resource, string method)
    {
        if (Admit())
        {
            SecurityLog.AccessDenied(logger, principal, operation, resourceType, resource, method);
        }
    }

    private bool Admit()
    {
        long suppressed;
        lock (_gate)
        {
            var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
            suppressed = 0;
            if (minute != _windowStart)
            {
                (_windowStart, _logged, suppressed, _suppressed) = (minute, 0, _suppressed, 0);
            }
            if (_logged >= _perMinute)
            {
                _suppressed++;
                return false;
            }
            _logged++;
        }
        if (suppressed > 0)
        {
            SecurityLog.AuditSuppressed(logger, suppressed);
        }
        return true;
    }
}
