namespace EventStream.Broker.Security;

/// <summary>
/// Who may call the broker. Bound from <c>EventStream:Security</c> (e.g.
/// <c>EventStream__Security__ApiKeys__Enabled=true</c>).
/// </summary>
/// <remarks>
/// Each authentication mechanism is optional and they combine: <see cref="ApiKeys"/>, <see cref="Jwt"/>
/// (on when <see cref="JwtOptions.Authority"/> or <see cref="JwtOptions.JwksFile"/> is set) and
/// <see cref="MutualTls"/>. With none of them on, no call is authenticated or authorized, and the
/// broker refuses to listen on any address but loopback unless <see cref="AllowAnonymous"/> is true.
/// With one on, every call but health checks and reflection needs credentials, and the ACLs decide.
/// </remarks>
public sealed class SecurityOptions
{
    /// <summary>Configuration section the options are bound from.</summary>
    public const string SectionName = "EventStream:Security";

    /// <summary>
    /// Lets a broker without authentication listen on non-loopback addresses, where anyone who
    /// reaches the port may do anything. Default false.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>API keys of service principals, created through the Security service.</summary>
    public ApiKeyOptions ApiKeys { get; set; } = new();

    /// <summary>JWT bearer tokens from an OpenID Connect issuer.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>Client certificates (needs Kestrel's TLS certificate).</summary>
    public MutualTlsOptions MutualTls { get; set; } = new();

    /// <summary>
    /// Principals with every right whatever the ACLs say, e.g. the first admin: a certificate's name, a
    /// token's subject or an API key's principal. Default none.
    /// </summary>
    public List<string> SuperUsers { get; set; } = [];

    /// <summary>Audit lines (refused credentials, denied operations) logged per minute at most; the rest are counted. Default 120.</summary>
    public int AuditLogsPerMinute { get; set; } = 120;

    /// <summary>Whether any authentication mechanism is on.</summary>
    public bool AuthenticationEnabled => ApiKeys.Enabled || Jwt.Enabled || MutualTls.Enabled;
}

/// <summary>API key settings (<c>EventStream:Security:ApiKeys</c>).</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Accept API keys as bearer tokens or basic credentials. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>PBKDF2 iterations for new keys (each key keeps its own). Default 600,000, at least 10,000.</summary>
    public int HashIterations { get; set; } = 600_000;

    /// <summary>Verified keys remembered (by fingerprint) so calls skip the PBKDF2 check. Default 10,000.</summary>
    public int VerifiedCacheSize { get; set; } = 10_000;

    /// <summary>How long a verified key is remembered. Default 5 minutes; a revoke takes effect at once regardless.</summary>
    public TimeSpan VerifiedCacheLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>JWT bearer settings (<c>EventStream:Security:Jwt</c>).</summary>
public sealed class JwtOptions
{
    /// <summary>The issuer's address; its OpenID Connect metadata gives the issuer and signing keys.</summary>
    public string? Authority { get; set; }

    /// <summary>A JSON Web Key Set file with the signing keys, instead of (or besides) the authority's.</summary>
    public string? JwksFile { get; set; }

    /// <summary>The <c>iss</c> tokens must carry. Required with <see cref="JwksFile"/>; with an authority, its metadata's.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> tokens must carry. Required.</summary>
    public string? Audience { get; set; }

    /// <summary>The claim naming the principal. Default <c>sub</c>.</summary>
    public string PrincipalClaim { get; set; } = "sub";

    /// <summary>Whether the authority must be https. Default true.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Clock difference tolerated on expiry and not-before. Default 1 minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(JwksFile);
}

/// <summary>Which part of a client certificate names the principal.</summary>
public enum CertificatePrincipal
{
    /// <summary>The subject's common name (CN).</summary>
    CommonName,

    /// <summary>The whole subject distinguished name, e.g. <c>CN=orders, O=Example</c>.</summary>
    Subject,

    /// <summary>The first DNS name of the subject alternative names.</summary>
    DnsName,

    /// <summary>The first URI of the subject alternative names, e.g. a SPIFFE id.</summary>
    Uri,
}

/// <summary>Client certificate settings (<c>EventStream:Security:MutualTls</c>).</summary>
public sealed class MutualTlsOptions
{
    /// <summary>Accept client certificates issued by <see cref="CaCertificatePath"/>. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA certificate(s) client certificates must chain to.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>What names the principal. Default <see cref="CertificatePrincipal.CommonName"/>.</summary>
    public CertificatePrincipal PrincipalFrom { get; set; } = CertificatePrincipal.CommonName;
}
