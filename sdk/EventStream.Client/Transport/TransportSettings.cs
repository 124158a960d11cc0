using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace EventStream.Client.Transport;

/// <summary>
/// The transport settings a producer's or consumer's options share (<c>Address</c>, <c>Channel</c>,
/// <c>ChannelOptions</c>, <c>HttpHandler</c>, <c>Interceptors</c>), and the rules between them, in one place.
/// </summary>
/// <param name="OptionsType">The options class, for messages: <c>EventStreamProducerOptions</c>.</param>
/// <param name="Address">The broker's address; ignored with <paramref name="Channel"/>.</param>
/// <param name="Channel">A channel of the user's, not disposed by the SDK.</param>
/// <param name="ChannelOptions">Settings of the channels the SDK creates.</param>
/// <param name="HttpHandler">The handler of the channels the SDK creates, not disposed by the SDK.</param>
/// <param name="Interceptors">Applied to every call, the first seeing a call first.</param>
/// <param name="Credentials">Sent with every call (keys, tokens) or presented by the SDK's handler (a certificate).</param>
internal sealed record TransportSettings(
    string OptionsType,
    string Address,
    GrpcChannel? Channel,
    GrpcChannelOptions? ChannelOptions,
    HttpMessageHandler? HttpHandler,
    IList<Interceptor> Interceptors,
    EventStreamCredentials? Credentials = null)
{
    /// <summary>The options' interceptors, then the one adding the credentials to each call.</summary>
    public IList<Interceptor> AllInterceptors => Credentials?.CallCredentials is { } call
        ? [.. Interceptors, new CredentialsInterceptor(call)]
        : Interceptors;

    /// <summary>The SDK's own handler, presenting the credentials' client certificate if any.</summary>
    public SocketsHttpHandler CreateDefaultHandler()
    {
        var handler = ChannelSettings.CreateDefaultHandler();
        if (Credentials?.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        return handler;
    }

    /// <summary>Lets keys and tokens go over the SDK's cleartext channels too (see <see cref="EventStreamCredentials"/>).</summary>
    public void ApplyCredentials(GrpcChannelOptions options)
    {
        if (Credentials?.CallCredentials is not null)
        {
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first setting that is wrong, with the property
    /// name as <see cref="ArgumentException.ParamName"/> and a message starting with <c>OptionsType.Setting</c>.
    /// </summary>
    public void Validate()
    {
        if (Channel is null
            && (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            throw Invalid("Address", $"must be an absolute http:// or https:// address, not '{Address}'");
        }
        if (HttpHandler is not null && Channel is not null)
        {
            throw Invalid("HttpHandler", "must not be set together with Channel: a channel sends through its own handler");
        }
        if (HttpHandler is not null && (ChannelOptions?.HttpHandler is not null || ChannelOptions?.HttpClient is not null))
        {
            throw Invalid("HttpHandler", "must not be set together with ChannelOptions.HttpHandler or ChannelOptions.HttpClient; set one of them");
        }
        if (ChannelOptions is { HttpHandler: not null, HttpClient: not null })
        {
            throw Invalid("ChannelOptions", "must not set both HttpHandler and HttpClient");
        }
        if (Credentials?.ClientCertificate is not null
            && (Channel is not null || HttpHandler is not null || ChannelOptions?.HttpHandler is not null || ChannelOptions?.HttpClient is not null))
        {
            throw Invalid("Credentials", "with a client certificate needs the SDK's own handler: add the certificate to your handler or channel instead");
        }
        if (Interceptors is null || Interceptors.Any(i => i is null))
        {
            throw Invalid("Interceptors", "must be a list without nulls");
        }
    }

    private ArgumentException Invalid(string setting, string problem) => new($"{OptionsType}.{setting} {problem}.", setting);
}
