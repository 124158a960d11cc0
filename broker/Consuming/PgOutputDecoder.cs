using System.Buffers.Binary;
using System.Text;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Decodes the pgoutput messages (protocol version 1, binary values) of the events table from
/// their bytes: begin, relation, insert, commit and logical messages; others are skipped. Reading
/// the raw message instead of a value at a time through the driver's per-column API costs a few
/// hundred nanoseconds an event instead of tens of microseconds.
/// </summary>
internal sealed class PgOutputDecoder(int node)
{
    private static readonly DateTime PostgresEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly Dictionary<uint, ColumnMap> _relations = [];
    private List<StreamedEvent>? _events;
    private ulong _commitLsn;
    private uint _ordinal;

    /// <summary>
    /// Decodes one message. Returns a transaction at its commit (when it has events), or a barrier
    /// message's token; null otherwise.
    /// </summary>
    public DecodedTransaction? Decode(ReadOnlySpan<byte> message, string barrierPrefix)
    {
        if (message.IsEmpty)
        {
            return null;
        }
        var reader = new Reader(message[1..]);
        switch ((char)message[0])
        {
            case 'B':
                _commitLsn = reader.UInt64();
                _ordinal = 0;
                _events = [];
                return null;
            case 'R':
                var relation = reader.UInt32();
                _relations[relation] = ColumnMap.Read(ref reader);
                return null;
            case 'I' when _events is not null:
                var columns = _relations.GetValueOrDefault(reader.UInt32())
                    ?? throw new InvalidDataException("An insert names a relation the stream did not describe.");
                if (reader.Byte() != 'N')
                {
                    throw new InvalidDataException("An insert carries no new tuple.");
                }
                _events.Add(columns.ReadEvent(ref reader, new EventPosition(_commitLsn, _ordinal++, 0) { Node = node }));
                return null;
            case 'C' when _events is not null:
                reader.Byte();
                reader.UInt64();
                var endLsn = reader.UInt64();
                var events = _events;
                _events = null;
                return new DecodedTransaction(_commitLsn, endLsn, events);
            case 'M':
                reader.Byte();
                reader.UInt64();
                var prefix = reader.CString();
                var content = reader.Bytes(reader.Int32());
                return prefix == barrierPrefix ? new DecodedTransaction(0, 0, [], Encoding.UTF8.GetString(content)) : null;
            default:
                return null;
        }
    }

    /// <summary>Where each column of <c>eventstream.events</c> is in the decoded rows.</summary>
    private sealed class ColumnMap
    {
        private readonly int _count;
        private readonly int[] _slots;

        private ColumnMap(string[] names)
        {
            _count = names.Length;
            _slots = new int[names.Length];
            Array.Fill(_slots, -1);
            foreach (var (column, slot) in Columns)
            {
                var index = Array.IndexOf(names, column);
                if (index < 0)
                {
                    throw new InvalidOperationException($"The decoded events table has no column {column}.");
                }
                _slots[index] = slot;
            }
        }

        private static readonly (string Name, int Slot)[] Columns =
        [
            ("topic_id", 0), ("shard", 1), ("event_id", 2), ("ingest_time", 3), ("producer_time", 4),
            ("key", 5), ("payload", 6), ("headers", 7), ("content_type", 8),
        ];

        public static ColumnMap Read(ref Reader reader)
        {
            reader.CString();
            reader.CString();
            reader.Byte();
            var names = new string[reader.Int16()];
            for (var i = 0; i < names.Length; i++)
            {
                reader.Byte();
                names[i] = reader.CString();
                reader.UInt32();
                reader.Int32();
            }
            return new ColumnMap(names);
        }

        public StreamedEvent ReadEvent(ref Reader reader, EventPosition position)
        {
            int count = reader.Int16();
            if (count != _count)
            {
                throw new InvalidDataException($"An insert has {count} columns; the relation has {_count}.");
            }
            int topicId = 0, shard = 0;
            long eventId = 0;
            DateTime ingestTime = default;
            DateTime? producerTime = null;
            byte[]? key = null, payload = null;
            string? headers = null, contentType = null;
            for (var i = 0; i < count; i++)
            {
                var kind = reader.Byte();
                if (kind == 'n')
                {
                    continue;
                }
                if (kind != 'b')
                {
                    throw new InvalidDataException($"Column {i} came as '{(char)kind}', not as a binary value.");
                }
                var value = reader.Bytes(reader.Int32());
                switch (_slots[i])
                {
                    case 0: topicId = BinaryPrimitives.ReadInt32BigEndian(value); break;
                    case 1: shard = BinaryPrimitives.ReadInt32BigEndian(value); break;
                    case 2: eventId = BinaryPrimitives.ReadInt64BigEndian(value); break;
                    case 3: ingestTime = Timestamp(value); break;
                    case 4: producerTime = Timestamp(value); break;
                    case 5: key = value.ToArray(); break;
                    case 6: payload = value.ToArray(); break;
                    // jsonb's binary form: a version byte, then the text.
                    case 7: headers = Encoding.UTF8.GetString(value[1..]); break;
                    case 8: contentType = Encoding.UTF8.GetString(value); break;
                }
            }
            return new StreamedEvent(topicId, shard, eventId, ingestTime, producerTime, key, payload ?? [], headers, contentType,
                position with { EventId = eventId });
        }

        private static DateTime Timestamp(ReadOnlySpan<byte> value) =>
            PostgresEpoch.AddTicks(BinaryPrimitives.ReadInt64BigEndian(value) * TimeSpan.TicksPerMicrosecond);
    }

    /// <summary>Big-endian fields of a message, front to back.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public byte Byte() => Bytes(1)[0];

        public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Bytes(2));

        public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Bytes(4));

        public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Bytes(4));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64BigEndian(Bytes(8));

        public string CString()
        {
            var end = _data.IndexOf((byte)0);
            if (end < 0)
            {
                throw new InvalidDataException("A pgoutput string is not terminated.");
            }
            var text = Encoding.UTF8.GetString(_data[..end]);
            _data = _data[(end + 1)..];
            return text;
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length < 0 || length > _data.Length)
            {
                throw new InvalidDataException("A pgoutput message ended early.");
            }
            var bytes = _data[..length];
            _data = _data[length..];
            return bytes;
        }
    }
}
