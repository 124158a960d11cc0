using EventStream.Cli.Failures;

namespace EventStream.Cli.Connection;

/// <summary>
/// The profile file: <c>[name]</c> sections of <c>key = value</c> lines and <c>#</c> comments; keys
/// before any section belong to <c>default</c>. Keys: broker, api_key, token, user, password, cert, cert_key.
/// </summary>
internal static class ProfileFile
{
    /// <summary>The profile's settings; none when there is no file. A profile named explicitly must exist.</summary>
    public static Dictionary<string, string> Read(string path, string? name)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return name is null ? settings : throw new CliException($"--profile: no profile file at {path} (set {ConnectionSettings.ConfigVariable} to use another)");
        }
        var wanted = name ?? "default";
        var section = "default";
        var found = false;
        foreach (var raw in File.ReadLines(path))
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
            if (section == wanted && equals > 0)
            {
                found = true;
                settings[line[..equals].Trim()] = line[(equals + 1)..].Trim();
            }
        }
        if (!found && name is not null)
        {
            throw new CliException($"--profile: {path} has no profile [{name}]");
        }
        return settings;
    }
}
