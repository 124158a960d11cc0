using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace EventStream.Broker.Tests.Compose;

/// <summary>
/// A Compose file read as Compose reads it: YAML with anchors and merge keys resolved, and
/// <c>${VAR:-default}</c> replaced by its default (the tests do not depend on the environment).
/// </summary>
internal sealed partial class ComposeFile
{
    private ComposeFile(string path, Dictionary<object, object?> root)
    {
        Path = path;
        Root = root;
        Services = Map(root, "services")?.ToDictionary(s => (string)s.Key, s => new ComposeService((string)s.Key, AsMap(s.Value)))
            ?? throw new InvalidDataException($"{path} has no services.");
    }

    public string Path { get; }

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;

    public Dictionary<object, object?> Root { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    public static ComposeFile Load(string path)
    {
        using var reader = new StreamReader(path);
        var root = new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(reader)));
        return new ComposeFile(path, AsMap(root));
    }

    public ComposeService Service(string name) =>
        Services.TryGetValue(name, out var service) ? service : throw new KeyNotFoundException($"{Path} has no service {name}.");

    /// <summary>Top-level named volumes.</summary>
    public IReadOnlyCollection<string> Volumes => Map(Root, "volumes")?.Keys.Cast<string>().ToList() ?? [];

    internal static Dictionary<object, object?> AsMap(object? node) =>
        node as Dictionary<object, object?> ?? throw new InvalidDataException($"Expected a mapping, found {node?.GetType().Name ?? "nothing"}.");

    internal static Dictionary<object, object?>? Map(Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? AsMap(value) : null;

    internal static string? Scalar(Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? Interpolate((string)value!) : null;

    /// <summary>A list, or a string that Compose splits on white space (commands).</summary>
    internal static List<string> Strings(Dictionary<object, object?> map, string key) => map.TryGetValue(key, out var value)
        ? value switch
        {
            List<object?> list => list.Select(i => Interpolate((string)i!)).ToList(),
            string text => Interpolate(text).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
            _ => throw new InvalidDataException($"{key} is neither a list nor a string."),
        }
        : [];

    internal static string Interpolate(string value) =>
        Variable().Replace(value, m => m.Groups["escaped"].Success ? "$" : m.Groups["default"].Value);

    [GeneratedRegex(@"(?<escaped>\$\$)|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?<default>[^}]*))?\}")]
    private static partial Regex Variable();
}

/// <summary>One service of a Compose file.</summary>
internal sealed class ComposeService(string name, Dictionary<object, object?> map)
{
    public string Name { get; } = name;

    public Dictionary<object, object?> Map { get; } = map;

    public string? Image => ComposeFile.Scalar(Map, "image");

    /// <summary>The build context and Dockerfile (relative to the context), or null without a build.</summary>
    public (string Context, string Dockerfile)? Build => Map.TryGetValue("build", out var build)
        ? build switch
        {
            string context => (context, "Dockerfile"),
            Dictionary<object, object?> spec => (ComposeFile.Scalar(spec, "context") ?? ".", ComposeFile.Scalar(spec, "dockerfile") ?? "Dockerfile"),
            _ => throw new InvalidDataException($"{Name}: unexpected build."),
        }
        : null;

    public List<string> Command => ComposeFile.Strings(Map, "command");

    /// <summary>PostgreSQL settings given as <c>-c name=value</c> in the command.</summary>
    public Dictionary<string, string> ServerSettings
    {
        get
        {
            var settings = new Dictionary<string, string>();
            var command = Command;
            for (var i = 0; i < command.Count - 1; i++)
            {
                if (command[i] == "-c" && command[i + 1].Split('=', 2) is [var key, var value])
                {
                    Assert.True(settings.TryAdd(key, value), $"{Name} sets {key} twice.");
                }
            }
            return settings;
        }
    }

    /// <summary>The environment, from a mapping or a list of NAME=value.</summary>
    public Dictionary<string, string> Environment => Map.TryGetValue("environment", out var environment)
        ? environment switch
        {
            Dictionary<object, object?> variables => variables.ToDictionary(v => (string)v.Key, v => ComposeFile.Interpolate((string?)v.Value ?? "")),
            List<object?> lines => lines.Select(l => ((string)l!).Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? ComposeFile.Interpolate(p[1]) : ""),
            _ => throw new InvalidDataException($"{Name}: unexpected environment."),
        }
        : [];

    /// <summary>Services this one waits for, with the condition (service_started for the list form).</summary>
    public Dictionary<string, string> DependsOn => Map.TryGetValue("depends_on", out var dependsOn)
        ? dependsOn switch
        {
            List<object?> names => names.ToDictionary(n => (string)n!, _ => "service_started"),
            Dictionary<object, object?> conditions => conditions.ToDictionary(
                c => (string)c.Key, c => ComposeFile.Scalar(ComposeFile.AsMap(c.Value), "condition") ?? "service_started"),
            _ => throw new InvalidDataException($"{Name}: unexpected depends_on."),
        }
        : [];

    public List<string> Ports => ComposeFile.Strings(Map, "ports");

    public List<string> Volumes => ComposeFile.Strings(Map, "volumes");

    /// <summary>The health check's test, e.g. <c>["CMD", "program", "argument"]</c>; empty without one.</summary>
    public List<string> HealthCheck => ComposeFile.Map(Map, "healthcheck") is { } check ? ComposeFile.Strings(check, "test") : [];
}
