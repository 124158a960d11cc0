using System.Buffers.Binary;
using System.Text;
using EventStream.Broker.Consuming;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>pgoutput (protocol 1, binary values) decoded from its bytes, as PostgreSQL sends them.</summary>
public sealed class PgOutputDecoderTests
{
    private static readonly string[] Columns =
        ["topic_id", "shard", "event_id", "ingest_time", "producer_time", "key", "payload", "headers", "content_type"];

    [Fact]
    public void A_transactions_inserts_come_out_at_its_commit_with_their_positions()
    {
        var decoder = new PgOutputDecoder(node: 3);

        Assert.Null(decoder.Decode(Begin(finalLsn: 0x1000), "b"));
        Assert.Null(decoder.Decode(Relation(16400, Columns), "b"));
        Assert.Null(decoder.Decode(Insert(16400, eventId: 7, key: [1, 2], payload: "hello", headers: """{"a": "b"}"""), "b"));
        Assert.Null(decoder.Decode(Insert(16400, eventId: 8, key: null, payload: "world", headers: null), "b"));
        var transaction = decoder.Decode(Commit(endLsn: 0x1100), "b");

        Assert.NotNull(transaction);
        Assert.Equal(0x1000UL, transaction.CommitLsn);
        Assert.Equal(0x1100UL, transaction.EndLsn);
        Assert.Collection(transaction.Events,
            e =>
            {
                Assert.Equal((5, 11, 7L), (e.TopicId, e.Shard, e.EventId));
                Assert.Equal(new DateTime(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc), e.IngestTime);
                Assert.Null(e.ProducerTime);
                Assert.Equal([1, 2], e.Key);
                Assert.Equal("hello", Encoding.UTF8.GetString(e.Payload));
                Assert.Equal("""{"a": "b"}""", e.HeadersJson);
                Assert.Equal("text/plain", e.ContentType);
                Assert.Equal(new EventPosition(0x1000, 0, 7) { Node = 3 }, e.Position);
            },
            e =>
            {
                Assert.Null(e.Key);
                Assert.Null(e.HeadersJson);
                Assert.Equal(new EventPosition(0x1000, 1, 8) { Node = 3 }, e.Position);
            });
    }

    [Fact]
    public void Barrier_messages_are_returned_and_other_messages_skipped()
    {
        var decoder = new PgOutputDecoder(node: 0);

        var barrier = decoder.Decode(Message("eventstream.barrier", "token-1"), "eventstream.barrier");
        var other = decoder.Decode(Message("someone.else", "x"), "eventstream.barrier");
        var origin = decoder.Decode([(byte)'O', 0, 0, 0, 0, 0, 0, 0, 1, (byte)'o', 0], "eventstream.barrier");

        Assert.Equal("token-1", barrier?.Barrier);
        Assert.Null(other);
        Assert.Null(origin);
    }

    [Fact]
    public void A_truncated_insert_is_an_error_not_a_wrong_event()
    {
        var decoder = new PgOutputDecoder(node: 0);
        decoder.Decode(Begin(1), "b");
        decoder.Decode(Relation(1, Columns), "b");
        var insert = Insert(1, 1, null, "payload", null);

        Assert.Throws<InvalidDataException>(() => decoder.Decode(insert[..^3], "b"));
    }

    private static byte[] Begin(ulong finalLsn) => Build(w => w.Byte('B').UInt64(finalLsn).UInt64(0).UInt32(42));

    private static byte[] Commit(ulong endLsn) => Build(w => w.Byte('C').Byte(0).UInt64(endLsn - 1).UInt64(endLsn).UInt64(0));

    private static byte[] Relation(uint id, string[] columns) => Build(w =>
    {
        w.Byte('R').UInt32(id).CString("eventstream").CString("events").Byte('d').Int16((short)columns.Length);
        foreach (var column in columns)
        {
            w.Byte(0).CString(column).UInt32(23).UInt32(uint.MaxValue);
        }
    });

    private static byte[] Insert(uint relation, long eventId, byte[]? key, string payload, string? headers) => Build(w =>
    {
        var micros = (new DateTime(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc) - new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)).Ticks / 10;
        w.Byte('I').UInt32(relation).Byte('N').Int16(9);
        w.Value(Big(4, b => BinaryPrimitives.WriteInt32BigEndian(b, 5)));
        w.Value(Big(4, b => BinaryPrimitives.WriteInt32BigEndian(b, 11)));
        w.Value(Big(8, b => BinaryPrimitives.WriteInt64BigEndian(b, eventId)));
        w.Value(Big(8, b => BinaryPrimitives.WriteInt64BigEndian(b, micros)));
        w.Null();
        if (key is null)
        {
            w.Null();
        }
        else
        {
            w.Value(key);
        }
        w.Value(Encoding.UTF8.GetBytes(payload));
        if (headers is null)
        {
            w.Null();
        }
        else
        {
            w.Value([1, .. Encoding.UTF8.GetBytes(headers)]);
        }
        w.Value(Encoding.UTF8.GetBytes("text/plain"));
    });

    private static byte[] Message(string prefix, string content) => Build(w =>
        w.Byte('M').Byte(0).UInt64(5).CString(prefix).UInt32((uint)Encoding.UTF8.GetByteCount(content)).Raw(Encoding.UTF8.GetBytes(content)));

    private static byte[] Big(int size, Action<byte[]> write)
    {
        var bytes = new byte[size];
        write(bytes);
        return bytes;
    }

    private static byte[] Build(Action<Writer> write)
    {
        var writer = new Writer();
        write(writer);
        return writer.Bytes.ToArray();
    }

    private sealed class Writer
    {
        public List<byte> Bytes { get; } = [];

        public Writer Byte(char value) => Byte((byte)value);

        public Writer Byte(byte value)
        {
            Bytes.Add(value);
            return this;
        }

        public Writer Int16(short value) => Raw(Big(2, b => BinaryPrimitives.WriteInt16BigEndian(b, value)));

        public Writer UInt32(uint value) => Raw(Big(4, b => BinaryPrimitives.WriteUInt32BigEndian(b, value)));

        public Writer UInt64(ulong value) => Raw(Big(8, b => BinaryPrimitives.WriteUInt64BigEndian(b, value)));

        public Writer CString(string value) => Raw([.. Encoding.UTF8.GetBytes(value), 0]);

        public Writer Value(byte[] value) => Byte('b').UInt32((uint)value.Length).Raw(value);

        public Writer Null() => Byte('n');

        public Writer Raw(byte[] value)
        {
            Bytes.AddRange(value);
            return this;
        }
    }
}
