using System.Text.RegularExpressions;

namespace EventStream.Broker.Tests.Compose;

/// <summary>One instruction of a Dockerfile, continuation lines joined.</summary>
internal sealed record DockerInstruction(int Stage, string Keyword, string Arguments)
{
    /// <summary>The arguments split on white space, or the elements of the JSON (exec) form.</summary>
    public IReadOnlyList<string> Words => Arguments.StartsWith('[')
        ? System.Text.Json.JsonSerializer.Deserialize<List<string>>(Arguments)!
        : Arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The instructions of a Dockerfile, by build stage (0 = the first FROM).</summary>
internal sealed partial class DockerfileModel
{
    private DockerfileModel(string path, IReadOnlyList<DockerInstruction> instructions)
    {
        Path = path;
        Instructions = instructions;
    }

    public string Path { get; }

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    public int StageCount => Instructions.Count(i => i.Keyword == "FROM");

    public static DockerfileModel Load(string path)
    {
        var instructions = new List<DockerInstruction>();
        var stage = -1;
        var pending = "";
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            line = pending + line;
            pending = "";
            var match = Instruction().Match(line);
            Assert.True(match.Success, $"{path}: cannot read '{line}'.");
            var keyword = match.Groups["keyword"].Value.ToUpperInvariant();
            stage += keyword == "FROM" ? 1 : 0;
            instructions.Add(new DockerInstruction(stage, keyword, match.Groups["arguments"].Value.Trim()));
        }
        return new DockerfileModel(path, instructions);
    }

    public IEnumerable<DockerInstruction> Where(string keyword, int? stage = null) =>
        Instructions.Where(i => i.Keyword == keyword && (stage is null || i.Stage == stage));

    /// <summary>The image a stage starts from, with ARG defaults substituted.</summary>
    public string BaseImage(int stage)
    {
        var image = Where("FROM", stage).Single().Words[0];
        // Only ARGs declared before the first FROM apply to FROM lines.
        foreach (var arg in Where("ARG").Where(a => a.Stage < 0))
        {
            if (arg.Arguments.Split('=', 2) is [var name, var value])
            {
                image = image.Replace("${" + name + "}", value, StringComparison.Ordinal).Replace("$" + name, value, StringComparison.Ordinal);
            }
        }
        return image;
    }

    /// <summary>COPY instructions from the build context (not --from another stage): sources and destination.</summary>
    public IEnumerable<(DockerInstruction Instruction, IReadOnlyList<string> Sources, string Destination)> ContextCopies() =>
        Where("COPY").Concat(Where("ADD"))
            .Where(i => !i.Words.Any(w => w.StartsWith("--from=", StringComparison.Ordinal)))
            .Select(i =>
            {
                var words = i.Words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                return (i, (IReadOnlyList<string>)words[..^1], words[^1]);
            });

    /// <summary>Environment variables the last stage sets (ENV name=value ...).</summary>
    public Dictionary<string, string> FinalEnvironment()
    {
        var environment = new Dictionary<string, string>();
        foreach (var env in Where("ENV", StageCount - 1))
        {
            foreach (Match pair in EnvPair().Matches(env.Arguments))
            {
                environment[pair.Groups["name"].Value] = pair.Groups["value"].Value;
            }
        }
        return environment;
    }

    [GeneratedRegex(@"^(?<keyword>[A-Za-z]+)\s+(?<arguments>.*)$")]
    private static partial Regex Instruction();

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\S*)")]
    private static partial Regex EnvPair();
}
