using EventStream.Cli.Failures;

namespace EventStream.Cli.Connection;

/// <summary>
/// Which broker to call: <c>--broker</c>, else <c>EVENTSTREAM_BROKER</c>, else the profile file's
/// <c>broker</c> (profile <c>--profile</c>, <c>EVENTSTREAM_PROFILE</c> or <c>default</c>), else
/// <c>http://127.0.0.1:7400</c>. A bare <c>host:port</c> means <c>http://host:port</c>.
/// </summary>
internal static class BrokerAddress
{
    public const string Default = "http://127.0.0.1:7400";
    public const string BrokerVariable = "EVENTSTREAM_BROKER";
    public const string ProfileVariable = "EVENTSTREAM_PROFILE";
    public const string ConfigVariable = "EVENTSTREAM_CONFIG";

    /// <summary><c>$EVENTSTREAM_CONFIG</c>, or <c>~/.config/eventstream/profiles</c>.</summary>
    public static string ProfileFile =>
        Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } path ? path
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "eventstream", "profiles");

    public static string Resolve(string? option, string? profile)
    {
        var chosen = option is { Length: > 0 } ? option
            : Environment.GetEnvironmentVariable(BrokerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : FromProfile(profile ?? Environment.GetEnvironmentVariable(ProfileVariable)) ?? Default;
        return Normalize(chosen);
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

    /// <summary>
    /// The profile file: <c>[name]</c> sections of <c>key = value</c> lines, <c>#</c> comments. Keys before any
    /// section belong to <c>default</c>. A profile named explicitly must exist.
    /// </summary>
    private static string? FromProfile(string? name)
    {
        var file = ProfileFile;
        if (!File.Exists(file))
        {
            return name is null ? null : throw new CliException($"--profile: no profile file at {file} (set {ConfigVariable} to use another)");
        }
        var wanted = name ?? "default";
        var section = "default";
        var found = false;
        string? broker = null;
        foreach (var raw in File.ReadLines(file))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1].Trim();
                found |= section == wanted;
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (section == wanted && equals > 0 && line[..equals].Trim() == "broker")
            {
                found = true;
                broker = line[(equals + 1)..].Trim();
            }
        }
        if (!found && name is not null)
        {
            throw new CliException($"--profile: {file} has no profile [{name}]");
        }
        return broker;
    }
}
