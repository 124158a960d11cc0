using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;

namespace EventStream.Client;

/// <summary>
/// How a producer or consumer proves who it is to a broker with authentication on: an API key, a
/// token from a callback (for JWTs that expire and refresh), or a TLS client certificate. Set it as
/// the options' <c>Credentials</c>. A broker that refuses them fails calls with
/// <see cref="EventStreamErrorReason.Unauthenticated"/>; one that accepts them but denies an
/// operation with <see cref="EventStreamErrorReason.PermissionDenied"/>.
/// </summary>
/// <remarks>
/// Keys and tokens travel in the <c>authorization</c> header of every call. Use an <c>https://</c>
/// address: over cleartext (<c>http://</c>) anyone on the network path can read them. The channels the
/// SDK creates send them over cleartext too (for a broker on loopback); with your own
/// <see cref="Grpc.Net.Client.GrpcChannel"/>, grpc-dotnet sends them over cleartext only when its
/// options set <c>UnsafeUseInsecureChannelCallCredentials</c>.
/// </remarks>
public sealed class EventStreamCredentials
{
    private readonly Func<CancellationToken, ValueTask<string>>? _authorization;

    private EventStreamCredentials(Func<CancellationToken, ValueTask<string>>? authorization, X509Certificate2? clientCertificate)
    {
        _authorization = authorization;
        ClientCertificate = clientCertificate;
    }

    /// <summary>The certificate presented in the TLS handshake, if these credentials are one.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>An API key (<c>esk_...</c>), sent as <c>authorization: Bearer &lt;key&gt;</c>.</summary>
    public static EventStreamCredentials FromApiKey(string apiKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        var header = "Bearer " + apiKey;
        return new EventStreamCredentials(_ => ValueTask.FromResult(header), null);
    }

    /// <summary>A principal and its password (an API key of that principal), sent as basic credentials.</summary>
    public static EventStreamCredentials FromPassword(string principal, string password)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(principal);
        ArgumentException.ThrowIfNullOrWhiteSpace(password);
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{password}"));
        return new EventStreamCredentials(_ => ValueTask.FromResult(header), null);
    }

    /// <summary>
    /// A bearer token (e.g. a JWT) asked of <paramref name="tokenProvider"/> before every call, so a refreshed
    /// token is used as soon as the callback returns it. Keep the callback fast: cache the token and refresh it
    /// ahead of its expiry. A callback that throws fails the call (as UNAVAILABLE, a transient failure).
    /// </summary>
    public static EventStreamCredentials FromTokenProvider(Func<CancellationToken, ValueTask<string>> tokenProvider)
    {
        ArgumentNullException.ThrowIfNull(tokenProvider);
        return new EventStreamCredentials(async cancellationToken => "Bearer " + await tokenProvider(cancellationToken), null);
    }

    /// <summary>
    /// A client certificate (with its private key) for mutual TLS, presented by the handler the SDK creates.
    /// Needs an <c>https://</c> address; with your own handler or channel, put the certificate there instead.
    /// </summary>
    public static EventStreamCredentials FromClientCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The client certificate needs its private key.", nameof(certificate));
        }
        return new EventStreamCredentials(null, certificate);
    }

    /// <summary>The per-call credentials that add the authorization header, or null for a certificate.</summary>
    internal CallCredentials? CallCredentials => _authorization is { } authorization
        ? CallCredentials.FromInterceptor(async (context, metadata) => metadata.Add("authorization", await authorization(context.CancellationToken)))
        : null;
}
