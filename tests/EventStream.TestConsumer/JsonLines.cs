using System.Text;
using System.Text.Json;
using EventStream.Client;

namespace EventStream.TestConsumer;

/// <summary>
/// Writes JSON lines to stdout in order, each flushed at once, so a killed process has reported
/// everything it received (short of the line being written).
/// </summary>
internal sealed class JsonLines : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly StreamWriter _writer;

    public JsonLines(Stream stdout) => _writer = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16) { AutoFlush = true };

    public void Event(ConsumedEvent e)
    {
        // Payloads are "key:sequence" as the tests produce them.
        var payload = e.GetPayloadString();
        var seq = long.Parse(payload[(payload.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Write(w =>
        {
            w.WriteNumber("id", e.EventId);
            w.WriteString("key", e.GetKeyString());
            w.WriteNumber("seq", seq);
            w.WriteNumber("shard", e.Shard);
            w.WriteNumber("epoch", e.LeaseEpoch);
            w.WriteNumber("lsn", e.Position.CommitLsn);
            w.WriteNumber("ord", e.Position.Ordinal);
        });
    }

    public void Shards(string what, IReadOnlyList<int> shards) => Write(w =>
    {
        w.WriteStartArray(what);
        foreach (var shard in shards)
        {
            w.WriteNumberValue(shard);
        }
        w.WriteEndArray();
    });

    public void Committed(IEnumerable<ConsumedEvent> lastPerShard) => Write(w =>
    {
        w.WriteStartArray("committed");
        foreach (var e in lastPerShard)
        {
            w.WriteStartObject();
            w.WriteNumber("shard", e.Shard);
            w.WriteNumber("lsn", e.Position.CommitLsn);
            w.WriteNumber("ord", e.Position.Ordinal);
            w.WriteNumber("id", e.EventId);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    private void Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        lock (_lock)
        {
            _writer.WriteLine(line);
        }
    }
}
