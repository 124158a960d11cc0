using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>Rejects security settings that cannot work, at host start.</summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    private const string Section = SecurityOptions.SectionName;
    private const int MinHashIterations = 10_000;

    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        if (options.ApiKeys.HashIterations < MinHashIterations)
        {
            failures.Add($"{Section}:ApiKeys:HashIterations must be at least {MinHashIterations}, not {options.ApiKeys.HashIterations}.");
        }
        if (options.ApiKeys.VerifiedCacheSize < 1 || options.ApiKeys.VerifiedCacheLifetime <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:ApiKeys:VerifiedCacheSize and VerifiedCacheLifetime must be positive.");
        }
        if (options.AuditLogsPerMinute < 1)
        {
            failures.Add($"{Section}:AuditLogsPerMinute must be at least 1, not {options.AuditLogsPerMinute}.");
        }
        if (options.SuperUsers.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{Section}:SuperUsers must not hold empty names.");
        }
        ValidateJwt(options.Jwt, failures);
        ValidateMutualTls(options.MutualTls, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateJwt(JwtOptions jwt, List<string> failures)
    {
        if (!jwt.Enabled)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(jwt.Audience))
        {
            failures.Add($"{Section}:Jwt:Audience is required when JWT bearer tokens are accepted.");
        }
        if (string.IsNullOrWhiteSpace(jwt.PrincipalClaim))
        {
            failures.Add($"{Section}:Jwt:PrincipalClaim must name a claim, e.g. sub.");
        }
        if (jwt.JwksFile is { Length: > 0 } file)
        {
            if (!File.Exists(file))
            {
                failures.Add($"{Section}:Jwt:JwksFile '{file}' does not exist.");
            }
            if (string.IsNullOrWhiteSpace(jwt.Issuer) && string.IsNullOrWhiteSpace(jwt.Authority))
            {
                failures.Add($"{Section}:Jwt:Issuer is required with {Section}:Jwt:JwksFile.");
            }
        }
        if (jwt.Authority is { Length: > 0 } authority && !Uri.TryCreate(authority, UriKind.Absolute, out _))
        {
            failures.Add($"{Section}:Jwt:Authority must be an absolute address, not '{authority}'.");
        }
        if (jwt.ClockSkew < TimeSpan.Zero)
        {
            failures.Add($"{Section}:Jwt:ClockSkew must not be negative.");
        }
    }

    private static void ValidateMutualTls(MutualTlsOptions tls, List<string> failures)
    {
        if (!tls.Enabled)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(tls.CaCertificatePath) || !File.Exists(tls.CaCertificatePath))
        {
            failures.Add($"{Section}:MutualTls:CaCertificatePath must name an existing PEM file of the CA that issues client certificates.");
        }
        if (!Enum.IsDefined(tls.PrincipalFrom))
        {
            failures.Add($"{Section}:MutualTls:PrincipalFrom must be CommonName, Subject, DnsName or Uri.");
        }
    }
}
