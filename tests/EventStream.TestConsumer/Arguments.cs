using System.Globalization;
using EventStream.Client;

namespace EventStream.TestConsumer;

/// <summary>The command line of the test consumer.</summary>
internal sealed record Arguments(string Address, string Group, string Topic, int CommitEvery,
    TimeSpan SessionTimeout, TimeSpan HeartbeatInterval, StartPosition Start)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }
        string Get(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");
        int Number(string name, int fallback) => values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
        return new Arguments(
            Get("address"),
            Get("group"),
            Get("topic"),
            Number("commit-every", 1000),
            TimeSpan.FromMilliseconds(Number("session-timeout-ms", 3000)),
            TimeSpan.FromMilliseconds(Number("heartbeat-ms", 1000)),
            values.GetValueOrDefault("start") == "latest" ? StartPosition.Latest : StartPosition.Earliest);
    }
}
