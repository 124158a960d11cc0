using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace EventStream.Broker.Security;

/// <summary>
/// The broker's authentication schemes: API keys, JWT bearer tokens and client certificates, each
/// added when configured, behind one policy scheme that picks by what the call presents: an
/// authorization header with a key (<c>esk_...</c> or basic credentials), one with another bearer
/// token (a JWT), or else the connection's client certificate.
/// </summary>
internal static class AuthenticationSchemes
{
    public const string Selector = "EventStream";
    public const string JwtMechanism = "jwt";
    public const string CertificateMechanism = "certificate";

    public static void Add(IServiceCollection services, SecurityOptions options)
    {
        var authentication = services.AddAuthentication(Selector);
        authentication.AddPolicyScheme(Selector, "EventStream credentials", policy =>
            policy.ForwardDefaultSelector = context => Choose(context.Request.Headers.Authorization.ToString(), options));
        if (options.ApiKeys.Enabled)
        {
            authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        }
        if (options.Jwt.Enabled)
        {
            authentication.AddJwtBearer(jwt => ConfigureJwt(jwt, options.Jwt));
        }
        if (options.MutualTls.Enabled)
        {
            authentication.AddCertificate(certificate => ConfigureCertificate(certificate, options.MutualTls));
        }
    }

    /// <summary>The scheme that judges a call: by its authorization header, else its certificate.</summary>
    public static string Choose(string authorization, SecurityOptions options)
    {
        if (authorization.Length > 0)
        {
            var isKey = ApiKeyAuthenticationHandler.TryReadCredentials(authorization, out _, out _);
            return isKey || !options.Jwt.Enabled
                ? (options.ApiKeys.Enabled ? ApiKeyAuthenticationHandler.SchemeName : Fallback(options))
                : JwtBearerDefaults.AuthenticationScheme;
        }
        return options.MutualTls.Enabled ? CertificateAuthenticationDefaults.AuthenticationScheme : Fallback(options);
    }

    /// <summary>A scheme that is registered, to answer "no credentials".</summary>
    private static string Fallback(SecurityOptions options) =>
        options.ApiKeys.Enabled ? ApiKeyAuthenticationHandler.SchemeName
        : options.Jwt.Enabled ? JwtBearerDefaults.AuthenticationScheme
        : CertificateAuthenticationDefaults.AuthenticationScheme;

    private static void ConfigureJwt(JwtBearerOptions jwt, JwtOptions settings)
    {
        jwt.MapInboundClaims = false;
        jwt.Authority = string.IsNullOrWhiteSpace(settings.Authority) ? null : settings.Authority;
        jwt.RequireHttpsMetadata = settings.RequireHttpsMetadata;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = string.IsNullOrWhiteSpace(settings.Issuer) ? null : settings.Issuer,
            ValidateAudience = true,
            ValidAudience = settings.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = settings.ClockSkew,
            NameClaimType = settings.PrincipalClaim,
            AuthenticationType = JwtMechanism,
        };
        if (settings.JwksFile is { Length: > 0 } file)
        {
            jwt.TokenValidationParameters.IssuerSigningKeys = new JsonWebKeySet(File.ReadAllText(file)).GetSigningKeys();
        }
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                if (context.Principal?.FindFirst(settings.PrincipalClaim)?.Value is not { Length: > 0 } name)
                {
                    context.Fail($"the token has no '{settings.PrincipalClaim}' claim (EventStream:Security:Jwt:PrincipalClaim)");
                    return Task.CompletedTask;
                }
                context.Principal = CallerIdentity.Principal(name, JwtMechanism);
                return Task.CompletedTask;
            },
        };
    }

    private static void ConfigureCertificate(CertificateAuthenticationOptions certificate, MutualTlsOptions settings)
    {
        certificate.AllowedCertificateTypes = CertificateTypes.All;
        certificate.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
        certificate.CustomTrustStore.ImportFromPemFile(settings.CaCertificatePath!);
        certificate.RevocationMode = X509RevocationMode.NoCheck;
        certificate.ValidateCertificateUse = true;
        certificate.Events = new CertificateAuthenticationEvents
        {
            OnCertificateValidated = context =>
            {
                if (CertificateNames.PrincipalOf(context.ClientCertificate, settings.PrincipalFrom) is not { } name)
                {
                    context.Fail($"the certificate has no {settings.PrincipalFrom} (EventStream:Security:MutualTls:PrincipalFrom)");
                    return Task.CompletedTask;
                }
                context.Principal = CallerIdentity.Principal(name, CertificateMechanism);
                context.Success();
                return Task.CompletedTask;
            },
        };
    }
}
