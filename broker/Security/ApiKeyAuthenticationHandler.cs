using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>
/// Authenticates API keys sent as <c>authorization: Bearer esk_...</c>, or as basic credentials with
/// the key's principal as user name and the key as password. Keys are looked up in
/// <see cref="SecurityCatalog"/> by their id and checked against their PBKDF2 hash once per
/// <see cref="ApiKeyOptions.VerifiedCacheLifetime"/> (<see cref="VerifiedKeyCache"/>).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory loggerFactory, UrlEncoder encoder,
    SecurityCatalog catalog, VerifiedKeyCache verified)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Mechanism = "api_key";
    private static readonly TimeSpan CatalogWait = TimeSpan.FromSeconds(10);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryReadCredentials(Request.Headers.Authorization.ToString(), out var key, out var claimedPrincipal))
        {
            return AuthenticateResult.NoResult();
        }
        var (principal, failure) = await CheckAsync(key, claimedPrincipal);
        if (principal is null)
        {
            // AccessResultHandler logs it (rate-limited) when the call is refused.
            return AuthenticateResult.Fail(failure!);
        }
        return AuthenticateResult.Success(new AuthenticationTicket(CallerIdentity.Principal(principal, Mechanism), SchemeName));
    }

    /// <summary>The key's principal, or why the key is refused (for the log).</summary>
    private async Task<(string? Principal, string? Failure)> CheckAsync(string key, string? claimedPrincipal)
    {
        if (!ApiKeySecret.TryReadKeyId(key, out var keyId))
        {
            return (null, "not an API key");
        }
        var snapshot = await catalog.GetAsync(CatalogWait, Context.RequestAborted);
        if (!snapshot.ActiveKeys.TryGetValue(keyId, out var stored))
        {
            return (null, $"key {keyId} is unknown or revoked");
        }
        if (claimedPrincipal is not null && claimedPrincipal != stored.Principal)
        {
            return (null, $"key {keyId} does not belong to the user name given");
        }
        if (!await verified.IsVerifiedAsync(ApiKeySecret.Fingerprint(key), keyId,
                () => ApiKeySecret.Verify(key, stored.Salt, stored.Iterations, stored.Hash)))
        {
            return (null, $"wrong secret for key {keyId}");
        }
        return (stored.Principal, null);
    }

    /// <summary>The key (and for basic credentials the user name) of an authorization header.</summary>
    public static bool TryReadCredentials(string header, out string key, out string? user)
    {
        (key, user) = ("", null);
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = header["Bearer ".Length..].Trim();
            return ApiKeySecret.LooksLikeKey(key);
        }
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0)
        {
            return false;
        }
        (user, key) = (decoded[..colon], decoded[(colon + 1)..]);
        return true;
    }
}

/// <summary>The principal of a call, however it authenticated: its name and the mechanism.</summary>
internal static class CallerIdentity
{
    public const string MechanismClaim = "eventstream/mechanism";

    public static ClaimsPrincipal Principal(string name, string mechanism) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(MechanismClaim, mechanism)], mechanism));

    /// <summary>The authenticated principal's name, or null.</summary>
    public static string? NameOf(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;

    public static string MechanismOf(ClaimsPrincipal user) =>
        user.FindFirst(MechanismClaim)?.Value ?? user.Identity?.AuthenticationType ?? "";
}
