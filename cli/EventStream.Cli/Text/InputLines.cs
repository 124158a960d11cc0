using System.Text;
using System.Text.Json;
using EventStream.Cli.Failures;

namespace EventStream.Cli.Text;

/// <summary>
/// Turns input lines into events: with a key separator (kcat's <c>-K</c>) the text before its first
/// occurrence is the key; with JSON payloads each payload must parse as JSON.
/// </summary>
internal sealed class InputLines(string? separator, bool json)
{
    // `-K '\t'` as typed in a shell means a tab.
    private readonly string? _keySeparator = separator?.Replace("\\t", "\t", StringComparison.Ordinal);

    public (string? Key, string Payload) Parse(string line, long lineNumber)
    {
        string? key = null;
        var payload = line;
        if (_keySeparator is { Length: > 0 })
        {
            var at = line.IndexOf(_keySeparator, StringComparison.Ordinal);
            if (at < 0)
            {
                throw new CliException($"line {lineNumber}: no key separator '{_keySeparator}' in the line");
            }
            key = line[..at];
            payload = line[(at + _keySeparator.Length)..];
        }
        if (json)
        {
            try
            {
                using var _ = JsonDocument.Parse(payload);
            }
            catch (JsonException e)
            {
                throw new CliException($"line {lineNumber}: the payload is not JSON ({e.Message})");
            }
        }
        return (key, payload);
    }

    public static long BytesOf(string? key, string payload) =>
        Encoding.UTF8.GetByteCount(payload) + (key is null ? 0 : Encoding.UTF8.GetByteCount(key));

    /// <summary>Headers given as <c>name=value</c>.</summary>
    public static Dictionary<string, string> Headers(IEnumerable<string> pairs)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--header: '{pair}' is not name=value");
            }
            headers[pair[..equals]] = pair[(equals + 1)..];
        }
        return headers;
    }
}
