using System.Collections;
using System.Text;

namespace EventStream.Grpc;

/// <summary>
/// gRPC metadata: ordered key/value pairs sent as HTTP/2 headers or trailers. Keys ending in
/// <c>-bin</c> carry bytes (base64 on the wire); other keys carry printable ASCII.
/// </summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    /// <summary>Suffix of keys whose values are binary.</summary>
    public const string BinarySuffix = "-bin";

    private readonly List<Entry> _entries = [];
    private readonly bool _readOnly;

    /// <summary>Creates empty metadata.</summary>
    public Metadata()
    {
    }

    private Metadata(bool readOnly) => _readOnly = readOnly;

    /// <summary>Empty, read-only metadata.</summary>
    public static Metadata Empty { get; } = new(readOnly: true);

    /// <summary>The number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds a text entry.</summary>
    public Metadata Add(string key, string value)
    {
        var normalized = NormalizeKey(key);
        if (IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Key '{key}' ends in '-bin' and needs a byte[] value.", nameof(key));
        }
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E)
            {
                throw new ArgumentException($"The value of '{key}' must be printable ASCII; use a '-bin' key for other data.", nameof(value));
            }
        }
        AddEntry(new Entry(normalized, value, null));
        return this;
    }

    /// <summary>Adds a binary entry; the key must end in <c>-bin</c>.</summary>
    public Metadata Add(string key, byte[] value)
    {
        var normalized = NormalizeKey(key);
        if (!IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Binary values need a key ending in '-bin', not '{key}'.", nameof(key));
        }
        ArgumentNullException.ThrowIfNull(value);
        AddEntry(new Entry(normalized, null, value));
        return this;
    }

    /// <summary>The first text value of a key, or null.</summary>
    public string? GetValue(string key)
    {
        var normalized = key.ToLowerInvariant();
        foreach (var entry in _entries)
        {
            if (entry.Key == normalized)
            {
                return entry.Value;
            }
        }
        return null;
    }

    /// <summary>The first binary value of a key, or null.</summary>
    public byte[]? GetBytes(string key)
    {
        var normalized = key.ToLowerInvariant();
        foreach (var entry in _entries)
        {
            if (entry.Key == normalized)
            {
                return entry.ValueBytes;
            }
        }
        return null;
    }

    /// <inheritdoc />
    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Whether a key carries binary values.</summary>
    public static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Adds an entry as it came off the wire (base64 for binary keys).</summary>
    internal void AddWireValue(string key, string wireValue)
    {
        var normalized = key.ToLowerInvariant();
        if (IsBinaryKey(normalized))
        {
            // Senders may or may not pad; accept both.
            AddEntry(new Entry(normalized, null, DecodeBase64(wireValue)));
        }
        else
        {
            AddEntry(new Entry(normalized, wireValue, null));
        }
    }

    internal static byte[] DecodeBase64(string value)
    {
        var trimmed = value.Trim().TrimEnd('=');
        var padded = trimmed.Length % 4 == 0 ? trimmed : trimmed + new string('=', 4 - trimmed.Length % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException e)
        {
            throw new GrpcException(new GrpcStatus(GrpcStatusCode.Internal, "Binary metadata is not valid base64."), innerException: e);
        }
    }

    private void AddEntry(Entry entry)
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("This metadata is read-only.");
        }
        _entries.Add(entry);
    }

    private static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var lower = key.ToLowerInvariant();
        foreach (var c in lower)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
            {
                throw new ArgumentException($"Metadata key '{key}' may contain only 0-9, a-z, '-', '_' and '.'.", nameof(key));
            }
        }
        if (lower.StartsWith("grpc-", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved by the gRPC protocol.", nameof(key));
        }
        return lower;
    }

    /// <summary>One metadata entry: a text value or a binary value.</summary>
    /// <param name="Key">The lower-case key.</param>
    /// <param name="Value">The text value, for keys without the <c>-bin</c> suffix.</param>
    /// <param name="ValueBytes">The binary value, for keys with the <c>-bin</c> suffix.</param>
    public sealed record Entry(string Key, string? Value, byte[]? ValueBytes)
    {
        /// <summary>Whether the entry is binary.</summary>
        public bool IsBinary => ValueBytes is not null;

        /// <summary>The value as sent in an HTTP/2 header.</summary>
        public string WireValue => ValueBytes is null ? Value! : Convert.ToBase64String(ValueBytes);

        /// <inheritdoc />
        public override string ToString() => IsBinary ? $"{Key}: {Convert.ToBase64String(ValueBytes!)}" : $"{Key}: {Value}";

        /// <summary>The value as UTF-8 text, whatever its kind.</summary>
        public string Text => Value ?? Encoding.UTF8.GetString(ValueBytes!);
    }
}
