using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Broker.Validation;

/// <summary>
/// The rules every request field is checked against before any database work: names, text,
/// durations and timestamps. A violation is INVALID_ARGUMENT with a short message naming the field;
/// values are echoed shortened, never whole.
/// </summary>
internal static partial class RequestRules
{
    public const int MaxNameLength = 249;

    private const int MaxEcho = 64;

    // Protobuf's own bounds: Duration spans ±10,000 years, Timestamp years 0001 to 9999.
    private const long MaxDurationSeconds = 315_576_000_000;
    private const long MinTimestampSeconds = -62_135_596_800;
    private const long MaxTimestampSeconds = 253_402_300_799;
    private const int NanosPerSecond = 1_000_000_000;

    // \z, not $: $ would also match before a final "\n".
    [GeneratedRegex(@"\A[A-Za-z0-9._-]{1,249}\z")]
    private static partial Regex NamePattern();

    /// <summary>Topic and group names: 1 to 249 characters from A-Z, a-z, 0-9, '.', '_' and '-'.</summary>
    public static bool IsName(string value) => NamePattern().IsMatch(value);

    /// <summary>Throws INVALID_ARGUMENT unless <paramref name="value"/> is a valid name (see <see cref="IsName"/>).</summary>
    public static void Name(string field, string value)
    {
        if (!IsName(value))
        {
            throw Invalid(field, $"'{Echo(value)}' is not a valid name: use 1 to {MaxNameLength} characters from A-Z, a-z, 0-9, '.', '_' and '-'");
        }
    }

    /// <summary>
    /// Text the broker stores or compares: at most <paramref name="maxLength"/> characters, no NUL
    /// (PostgreSQL text cannot hold it), valid UTF-8 (the protobuf parser already refuses invalid
    /// UTF-8 on the wire; strings made in the process may still hold half a surrogate pair).
    /// </summary>
    public static void Text(string field, string value, int maxLength, bool required = false)
    {
        if (required && value.Length == 0)
        {
            throw Invalid(field, "is required");
        }
        if (value.Length > maxLength)
        {
            throw Invalid(field, $"has {value.Length} characters; at most {maxLength} are allowed");
        }
        CheckCharacters(field, value);
    }

    /// <summary>
    /// As <see cref="Text"/>, without a length limit (the event's byte limit bounds it).
    /// <paramref name="allowNul"/> for text stored as bytes (keys, text payloads).
    /// </summary>
    public static void CheckCharacters(string field, string value, bool allowNul = false)
    {
        if (!allowNul && value.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid(field, "contains a NUL character");
        }
        // Surrogates are rare: look at pairs only when there are any.
        if (value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0 && HasLoneSurrogate(value))
        {
            throw Invalid(field, "is not valid UTF-8 (it holds half of a surrogate pair)");
        }
    }

    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A normalized duration between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static TimeSpan Duration(string field, Duration value, TimeSpan min, TimeSpan max)
    {
        if (!IsNormalized(value))
        {
            throw Invalid(field, "is not a normalized duration (seconds within ±10,000 years, nanos below one second with the seconds' sign)");
        }
        var span = value.ToTimeSpan();
        if (span < min || span > max)
        {
            throw Invalid(field, $"must be between {Describe(min)} and {Describe(max)}");
        }
        return span;
    }

    /// <summary>A normalized timestamp within years 0001 to 9999, as UTC.</summary>
    public static DateTime Timestamp(string field, Timestamp value)
    {
        if (value.Seconds < MinTimestampSeconds || value.Seconds > MaxTimestampSeconds || value.Nanos < 0 || value.Nanos >= NanosPerSecond)
        {
            throw Invalid(field, "is not a valid timestamp (years 0001 to 9999, nanos from 0 to 999,999,999)");
        }
        return value.ToDateTime();
    }

    public static bool IsNormalized(Duration value) =>
        Math.Abs(value.Seconds) <= MaxDurationSeconds
        && Math.Abs(value.Nanos) < NanosPerSecond
        && (value.Seconds == 0 || value.Nanos == 0 || (value.Seconds < 0) == (value.Nanos < 0));

    /// <summary>INVALID_ARGUMENT: "<paramref name="field"/> <paramref name="problem"/>."</summary>
    public static RpcException Invalid(string field, string problem) =>
        new(new Status(StatusCode.InvalidArgument, $"{field} {problem}."));

    /// <summary>A client's value for a message: shortened, control characters escaped.</summary>
    public static string Echo(string value)
    {
        var shown = value.Length <= MaxEcho ? value : value[..MaxEcho];
        var escaped = string.Concat(shown.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return value.Length <= MaxEcho ? escaped : $"{escaped}... ({value.Length} characters)";
    }

    private static string Describe(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{span.TotalDays:0.###} days" : span.TotalSeconds >= 0.001 || span <= TimeSpan.Zero ? $"{span.TotalSeconds:0.###} s" : $"{span.TotalMicroseconds:0.#} µs";
}
