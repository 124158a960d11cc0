using System.Globalization;
using EventStream.Cli.Failures;

namespace EventStream.Cli.Text;

/// <summary>Points in time on the command line: ISO 8601 (<c>2026-12-03T10:00:00Z</c>), a date, or Unix milliseconds.</summary>
internal static class Times
{
    public static DateTimeOffset Parse(string option, string text)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var millis))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(millis);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }
        throw new CliException($"{option}: '{text}' is not a time; use ISO 8601 such as 2026-12-03T10:00:00Z, or Unix milliseconds");
    }
}
