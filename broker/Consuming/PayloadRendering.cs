using System.Text;
using System.Text.Json;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Puts an event's payload in the form a member asked for (<see cref="PayloadFormat"/>), one event
/// at a time and never failing: a payload that cannot take the asked form falls back to text
/// (valid UTF-8) or else to bytes, so its payload case tells the member which form it got. JSON is
/// converted without recursion, within <see cref="MaxJsonDepth"/>, <see cref="MaxJsonValues"/> and
/// <see cref="MaxJsonGrowthBytes"/>.
/// </summary>
internal static class PayloadRendering
{
    /// <summary>
    /// Deepest JSON nesting rendered as a value. Each level is two protobuf messages (Value and
    /// ListValue or Struct), and clients refuse messages nested past 100 by default.
    /// </summary>
    public const int MaxJsonDepth = 32;

    /// <summary>Most JSON values (scalars, arrays and objects) rendered for one event.</summary>
    public const int MaxJsonValues = 100_000;

    /// <summary>
    /// A JSON rendering may take at most twice the payload's bytes (plus this): with the default
    /// limits (1 MiB events, 4 MiB messages) a rendered event always fits a message.
    /// </summary>
    public const int MaxJsonGrowthBytes = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void SetPayload(Event message, byte[] payload, PayloadFormat format)
    {
        if (format == PayloadFormat.Binary || !TryDecodeUtf8(payload, out var text))
        {
            message.Data = UnsafeByteOperations.UnsafeWrap(payload);
            return;
        }
        if (format == PayloadFormat.Json && TryParseJson(payload) is { } json && json.CalculateSize() <= 2L * payload.Length + MaxJsonGrowthBytes)
        {
            message.Json = json;
            return;
        }
        message.Text = text;
    }

    /// <summary>The payload as a JSON value, or null when it is not JSON or passes the bounds.</summary>
    public static Value? TryParseJson(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
        // Open arrays and objects, innermost on top.
        var open = new Stack<Value>();
        string? property = null;
        Value? root = null;
        var values = 0;
        try
        {
            while (reader.Read())
            {
                Value value;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.GetString();
                        continue;
                    case JsonTokenType.EndArray:
                    case JsonTokenType.EndObject:
                        open.Pop();
                        continue;
                    case JsonTokenType.StartArray:
                        value = new Value { ListValue = new ListValue() };
                        break;
                    case JsonTokenType.StartObject:
                        value = new Value { StructValue = new Struct() };
                        break;
                    case JsonTokenType.String:
                        value = Value.ForString(reader.GetString()!);
                        break;
                    case JsonTokenType.Number:
                        if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        {
                            return null;
                        }
                        value = Value.ForNumber(number);
                        break;
                    case JsonTokenType.True:
                    case JsonTokenType.False:
                        value = Value.ForBool(reader.TokenType == JsonTokenType.True);
                        break;
                    case JsonTokenType.Null:
                        value = Value.ForNull();
                        break;
                    default:
                        return null;
                }
                if (++values > MaxJsonValues)
                {
                    return null;
                }
                if (open.TryPeek(out var parent))
                {
                    if (parent.KindCase == Value.KindOneofCase.ListValue)
                    {
                        parent.ListValue.Values.Add(value);
                    }
                    else
                    {
                        parent.StructValue.Fields[property!] = value;
                    }
                }
                else
                {
                    root = value;
                }
                if (value.KindCase is Value.KindOneofCase.ListValue or Value.KindOneofCase.StructValue)
                {
                    open.Push(value);
                }
            }
            return root;
        }
        catch (JsonException)
        {
            // Not JSON, or nested deeper than MaxJsonDepth.
            return null;
        }
        catch (InvalidOperationException)
        {
            // A string escaping half of a surrogate pair: no valid text.
            return null;
        }
    }

    private static bool TryDecodeUtf8(byte[] payload, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(payload);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
