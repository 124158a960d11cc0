using System.Globalization;
using System.Text.RegularExpressions;
using EventStream.Cli.Failures;

namespace EventStream.Cli.Text;

/// <summary>Durations as people type them: <c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>7d</c>, <c>500ms</c>.</summary>
internal static partial class Durations
{
    public static TimeSpan Parse(string option, string text)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || text.Trim().Length == 0)
        {
            throw new CliException($"{option}: '{text}' is not a duration; use e.g. 30s, 10m, 1h30m or 7d");
        }
        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitAt = part.Value.IndexOfAny(['d', 'h', 'm', 's', 'w']);
            var amount = double.Parse(part.Value[..unitAt], CultureInfo.InvariantCulture);
            total += part.Value[unitAt..] switch
            {
                "w" => TimeSpan.FromDays(7 * amount),
                "d" => TimeSpan.FromDays(amount),
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                _ => TimeSpan.FromMilliseconds(amount),
            };
        }
        if (total <= TimeSpan.Zero)
        {
            throw new CliException($"{option}: '{text}' must be longer than zero");
        }
        return total;
    }

    public static string Format(TimeSpan value)
    {
        if (value.TotalDays >= 1 && value.Ticks % TimeSpan.TicksPerDay == 0)
        {
            return $"{value.TotalDays:0}d";
        }
        if (value.TotalHours >= 1 && value.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return $"{value.TotalHours:0}h";
        }
        if (value.TotalMinutes >= 1 && value.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return $"{value.TotalMinutes:0}m";
        }
        return value.ToString("c", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\A(?<part>[0-9]+(\.[0-9]+)?(ms|w|d|h|m|s))+\z")]
    private static partial Regex DurationPattern();
}
