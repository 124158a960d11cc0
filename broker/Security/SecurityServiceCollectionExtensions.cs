using Grpc.AspNetCore.Server;
using EventStream.Broker.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Security;

/// <summary>
/// Wires security into the broker: options, and with authentication configured the ASP.NET Core
/// authentication and authorization middleware (every endpoint needs an authenticated caller unless
/// marked anonymous), the access interceptor, the key and ACL catalog, and client certificates in
/// Kestrel. With authentication off only <see cref="CallAccess"/> is added, which then allows all.
/// </summary>
internal static class SecurityServiceCollectionExtensions
{
    public static WebApplicationBuilder AddEventStreamSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecurityOptions>().Bind(builder.Configuration.GetSection(SecurityOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddSingleton<CallAccess>();
        services.AddSingleton(sp => new SecurityStore(() => sp.GetRequiredService<DatabaseEndpoint>().DataSource));
        services.AddSingleton<SecurityAdmin>();

        var options = SettingsOf(builder.Configuration);
        if (!options.AuthenticationEnabled)
        {
            return builder;
        }
        services.AddSingleton<AuditLog>();
        services.AddSingleton<SecurityCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<SecurityCatalog>());
        services.AddSingleton(sp => new VerifiedKeyCache(
            options.ApiKeys.VerifiedCacheSize, options.ApiKeys.VerifiedCacheLifetime, sp.GetRequiredService<TimeProvider>()));
        AuthenticationSchemes.Add(services, options);
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AccessResultHandler>();
        services.AddSingleton<AccessInterceptor>();
        // After the failure interceptor (added with AddGrpc), so its refusals pass through unchanged.
        services.PostConfigure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<AccessInterceptor>());
        if (options.MutualTls.Enabled)
        {
            // Any certificate passes the handshake; the certificate scheme judges it against the CA,
            // so a refused one gets UNAUTHENTICATED rather than a broken connection.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }));
        }
        return builder;
    }

    /// <summary>Adds the middleware when authentication is on; call before mapping the services.</summary>
    public static WebApplication UseEventStreamSecurity(this WebApplication app)
    {
        if (SettingsOf(app.Configuration).AuthenticationEnabled)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        return app;
    }

    /// <summary>The security settings as configured (before the host validates them).</summary>
    public static SecurityOptions SettingsOf(IConfiguration configuration) =>
        configuration.GetSection(SecurityOptions.SectionName).Get<SecurityOptions>() ?? new SecurityOptions();
}
