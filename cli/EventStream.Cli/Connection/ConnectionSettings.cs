using EventStream.Cli.Failures;

namespace EventStream.Cli.Connection;

/// <summary>
/// Where the broker is and who the caller is. Each setting comes from its option, else its
/// environment variable, else the profile file's profile (<c>--profile</c>, <c>EVENTSTREAM_PROFILE</c>
/// or <c>default</c>): the broker address (default <c>http://127.0.0.1:7400</c>; a bare
/// <c>host:port</c> means <c>http://host:port</c>) and at most one of an API key, a token (JWT), a
/// user and password, or a client certificate.
/// </summary>
internal sealed record ConnectionSettings(
    string Address, string? ApiKey, string? Token, string? User, string? Password, string? CertificateFile, string? CertificateKeyFile)
{
    /// <summary>The <c>authorization</c> header the SDK sends for these credentials, or null.</summary>
    public string? Authorization =>
        ApiKey is not null ? "Bearer " + ApiKey
        : Token is not null ? "Bearer " + Token
        : User is not null ? "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{User}:{Password}"))
        : null;

    public const string DefaultAddress = "http://127.0.0.1:7400";
    public const string BrokerVariable = "EVENTSTREAM_BROKER";
    public const string ProfileVariable = "EVENTSTREAM_PROFILE";
    public const string ConfigVariable = "EVENTSTREAM_CONFIG";

    /// <summary><c>$EVENTSTREAM_CONFIG</c>, or <c>~/.config/eventstream/profiles</c>.</summary>
    public static string ProfileFilePath =>
        Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } path ? path
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "eventstream", "profiles");

    /// <summary>Options as given on the command line (null when absent).</summary>
    public sealed record Given(string? Broker, string? Profile, string? ApiKey, string? Token, string? User, string? Password, string? Certificate, string? CertificateKey);

    public static ConnectionSettings Resolve(Given given)
    {
        var profileName = given.Profile ?? Environment.GetEnvironmentVariable(ProfileVariable);
        var profile = ProfileFile.Read(ProfileFilePath, profileName);
        string? Pick(string? option, string variable, string key) =>
            option is { Length: > 0 } ? option
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : profile.GetValueOrDefault(key);

        var address = Normalize(Pick(given.Broker, BrokerVariable, "broker") ?? DefaultAddress);
        var apiKey = Pick(given.ApiKey, "EVENTSTREAM_API_KEY", "api_key");
        var token = Pick(given.Token, "EVENTSTREAM_TOKEN", "token");
        var user = Pick(given.User, "EVENTSTREAM_USER", "user");
        var password = Pick(given.Password, "EVENTSTREAM_PASSWORD", "password");
        var certificate = Pick(given.Certificate, "EVENTSTREAM_CERT", "cert");
        var certificateKey = Pick(given.CertificateKey, "EVENTSTREAM_CERT_KEY", "cert_key");

        var chosen = new[] { apiKey is not null, token is not null, user is not null || password is not null }.Count(set => set);
        if (chosen > 1)
        {
            throw new CliException("give one of --api-key, --token and --user/--password (options, environment or profile)");
        }
        if ((user is null) != (password is null))
        {
            throw new CliException("--user and --password go together");
        }
        if (certificate is not null && !File.Exists(certificate))
        {
            throw new CliException($"--cert: {certificate} does not exist");
        }
        return new ConnectionSettings(address, apiKey, token, user, password, certificate, certificateKey);
    }

    private static string Normalize(string address)
    {
        var withScheme = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"--broker: '{address}' is not a broker address; use e.g. http://127.0.0.1:7400");
        }
        return uri.GetLeftPart(UriPartial.Authority);
    }
}
