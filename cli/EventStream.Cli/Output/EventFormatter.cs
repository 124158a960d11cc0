using System.Globalization;
using System.Text;
using System.Text.Json;
using EventStream.Cli.Failures;
using EventStream.Client;

namespace EventStream.Cli.Output;

/// <summary>
/// How consume prints an event: its payload (the default, one per line), <c>json</c> (one object per
/// line with topic, shard, event id, key, headers, times and payload), or a kcat-like format string:
/// <c>%t</c> topic, <c>%p</c> shard, <c>%o</c> event id, <c>%k</c> key, <c>%s</c> payload, <c>%K</c> and
/// <c>%S</c> their byte lengths, <c>%T</c> ingest time (Unix ms), <c>%h</c> headers (<c>n=v,...</c>),
/// <c>%%</c>, and <c>\n</c>, <c>\t</c>, <c>\\</c>.
/// </summary>
internal sealed class EventFormatter
{
    private readonly string? _template;
    private readonly bool _json;

    public EventFormatter(string format)
    {
        if (format == "json")
        {
            _json = true;
        }
        else if (format != "text")
        {
            if (!format.Contains('%', StringComparison.Ordinal))
            {
                throw new CliException($"--format: '{format}' is neither text, json nor a format string with %-fields such as '%k:%s\\n'");
            }
            _template = format;
        }
    }

    public void Write(TextWriter output, ConsumedEvent e)
    {
        if (_json)
        {
            output.Write(Json(e));
            output.Write('\n');
        }
        else if (_template is null)
        {
            output.Write(e.GetPayloadString());
            output.Write('\n');
        }
        else
        {
            output.Write(Expand(_template, e));
        }
    }

    private static string Json(ConsumedEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("topic", e.Topic);
            json.WriteNumber("shard", e.Shard);
            json.WriteNumber("event_id", e.EventId);
            if (e.GetKeyString() is { } key)
            {
                json.WriteString("key", key);
            }
            else
            {
                json.WriteNull("key");
            }
            json.WriteStartObject("headers");
            foreach (var (name, value) in e.Headers)
            {
                json.WriteString(name, value);
            }
            json.WriteEndObject();
            json.WriteString("ingest_time", e.IngestTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (e.ProducerTime is { } producerTime)
            {
                json.WriteString("producer_time", producerTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            }
            if (e.ContentType is { } contentType)
            {
                json.WriteString("content_type", contentType);
            }
            json.WritePropertyName("payload");
            WritePayload(json, e);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>JSON payloads as JSON, other payloads as a string.</summary>
    private static void WritePayload(Utf8JsonWriter json, ConsumedEvent e)
    {
        if (e.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                using var document = JsonDocument.Parse(e.Payload);
                document.WriteTo(json);
                return;
            }
            catch (JsonException)
            {
            }
        }
        json.WriteStringValue(e.GetPayloadString());
    }

    private static string Expand(string template, ConsumedEvent e)
    {
        var text = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '%' || c == '\\') && i + 1 < template.Length)
            {
                var next = template[++i];
                text.Append((c, next) switch
                {
                    ('%', 't') => e.Topic,
                    ('%', 'p') => e.Shard.ToString(CultureInfo.InvariantCulture),
                    ('%', 'o') => e.EventId.ToString(CultureInfo.InvariantCulture),
                    ('%', 'k') => e.GetKeyString() ?? "",
                    ('%', 's') => e.GetPayloadString(),
                    ('%', 'K') => (e.Key?.Length ?? 0).ToString(CultureInfo.InvariantCulture),
                    ('%', 'S') => e.Payload.Length.ToString(CultureInfo.InvariantCulture),
                    ('%', 'T') => e.IngestTime.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                    ('%', 'h') => string.Join(',', e.Headers.Select(h => $"{h.Key}={h.Value}")),
                    ('%', '%') => "%",
                    ('\\', 'n') => "\n",
                    ('\\', 't') => "\t",
                    ('\\', '\\') => "\\",
                    _ => new string([c, next]),
                });
            }
            else
            {
                text.Append(c);
            }
        }
        return text.ToString();
    }
}
