using System.Runtime.CompilerServices;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Streams one logical replication slot with pgoutput (binary values) from the
/// <c>eventstream_events</c> publication, one decoded transaction at a time, and reports back
/// how far the slot may be released.
/// </summary>
internal sealed class SlotReader : IAsyncDisposable
{
    public const string Publication = "eventstream_events";

    /// <summary>Prefix of the logical messages <see cref="SlotBarrier"/> writes.</summary>
    public const string BarrierPrefix = "eventstream.barrier";

    private readonly LogicalReplicationConnection _connection;
    private readonly string _slotName;
    private readonly int _node;
    private readonly bool _barriers;

    private SlotReader(LogicalReplicationConnection connection, string slotName, int node, bool barriers)
    {
        _connection = connection;
        _slotName = slotName;
        _node = node;
        _barriers = barriers;
    }

    /// <summary>
    /// Opens a replication connection for a slot; the slot must exist. Positions name
    /// <paramref name="node"/>; with <paramref name="barriers"/>, barrier messages are decoded too
    /// (<see cref="DecodedTransaction.Barrier"/>).
    /// </summary>
    public static async Task<SlotReader> OpenAsync(string connectionString, string slotName, CancellationToken cancellationToken,
        int node = 0, bool barriers = false)
    {
        var connection = new LogicalReplicationConnection(connectionString)
        {
            // Status (and the flush position) is reported this often even while idle.
            WalReceiverStatusInterval = TimeSpan.FromSeconds(1),
        };
        await connection.Open(cancellationToken);
        return new SlotReader(connection, slotName, node, barriers);
    }

    /// <summary>
    /// The end of the last transaction the caller has finished with (it asked for the next):
    /// everything before it is processed.
    /// </summary>
    public ulong ProcessedLsn { get; private set; }

    /// <summary>
    /// Decoded transactions with at least one event, in commit order, starting after the slot's
    /// confirmed flush position.
    /// </summary>
    public async IAsyncEnumerable<DecodedTransaction> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = new PgOutputReplicationOptions(Publication, PgOutputProtocolVersion.V1, binary: true, messages: _barriers ? true : null);
        var slot = new PgOutputReplicationSlot(_slotName);
        List<StreamedEvent>? events = null;
        ulong commitLsn = 0;
        uint ordinal = 0;
        ColumnMap? columns = null;
        await foreach (var message in _connection.StartReplication(slot, options, cancellationToken))
        {
            switch (message)
            {
                case BeginMessage begin:
                    commitLsn = (ulong)begin.TransactionFinalLsn;
                    ordinal = 0;
                    events = [];
                    break;
                case RelationMessage relation:
                    columns = ColumnMap.From(relation);
                    break;
                case InsertMessage insert when events is not null && columns is not null:
                    events.Add(await DecodeAsync(insert, columns, new EventPosition(commitLsn, ordinal++, 0) { Node = _node }, cancellationToken));
                    break;
                case CommitMessage commit when events is not null:
                    if (events.Count > 0)
                    {
                        yield return new DecodedTransaction(commitLsn, (ulong)commit.TransactionEndLsn, events);
                    }
                    ProcessedLsn = (ulong)commit.TransactionEndLsn;
                    events = null;
                    break;
                case LogicalDecodingMessage { Prefix: BarrierPrefix } barrier:
                    // Non-transactional: decoded in WAL order with the commits around it.
                    using (var content = new StreamReader(barrier.Data, System.Text.Encoding.UTF8))
                    {
                        yield return new DecodedTransaction(0, 0, [], await content.ReadToEndAsync(cancellationToken));
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Tells the server everything before <paramref name="lsn"/> is processed; the slot keeps
    /// only WAL from there (a transaction committed at exactly that LSN is decoded again).
    /// </summary>
    /// <remarks>The connection reports it with its next periodic status update.</remarks>
    public void ConfirmFlush(ulong lsn) => _connection.SetReplicationStatus(new NpgsqlLogSequenceNumber(lsn));

    /// <summary>As <see cref="ConfirmFlush"/>, reported to the server at once.</summary>
    public Task ConfirmFlushAsync(ulong lsn, CancellationToken cancellationToken)
    {
        ConfirmFlush(lsn);
        return _connection.SendStatusUpdate(cancellationToken);
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();

    private static async Task<StreamedEvent> DecodeAsync(InsertMessage insert, ColumnMap columns, EventPosition position, CancellationToken cancellationToken)
    {
        var values = new object?[columns.Count];
        var index = 0;
        await foreach (var value in insert.NewRow.WithCancellation(cancellationToken))
        {
            values[index] = value.IsDBNull ? null : await ReadValueAsync(value, columns.Kinds[index], cancellationToken);
            index++;
        }
        var eventId = (long)values[columns.EventId]!;
        return new StreamedEvent(
            (int)values[columns.TopicId]!,
            (int)values[columns.Shard]!,
            eventId,
            (DateTime)values[columns.IngestTime]!,
            (DateTime?)values[columns.ProducerTime],
            (byte[]?)values[columns.Key],
            (byte[]?)values[columns.Payload] ?? [],
            (string?)values[columns.Headers],
            (string?)values[columns.ContentType],
            position with { EventId = eventId });
    }

    private static async ValueTask<object?> ReadValueAsync(ReplicationValue value, ColumnKind kind, CancellationToken cancellationToken) => kind switch
    {
        ColumnKind.Int32 => await value.Get<int>(cancellationToken),
        ColumnKind.Int64 => await value.Get<long>(cancellationToken),
        ColumnKind.Timestamp => await value.Get<DateTime>(cancellationToken),
        ColumnKind.Bytes => await value.Get<byte[]>(cancellationToken),
        ColumnKind.Text => await value.Get<string>(cancellationToken),
        _ => await value.Get<object>(cancellationToken),
    };

    private enum ColumnKind
    {
        Other,
        Int32,
        Int64,
        Timestamp,
        Bytes,
        Text,
    }

    /// <summary>Where each column of <c>eventstream.events</c> is in the decoded rows.</summary>
    private sealed class ColumnMap
    {
        public required int Count { get; init; }
        public required ColumnKind[] Kinds { get; init; }
        public required int TopicId { get; init; }
        public required int Shard { get; init; }
        public required int EventId { get; init; }
        public required int IngestTime { get; init; }
        public required int ProducerTime { get; init; }
        public required int Key { get; init; }
        public required int Payload { get; init; }
        public required int Headers { get; init; }
        public required int ContentType { get; init; }

        public static ColumnMap From(RelationMessage relation)
        {
            var names = relation.Columns.Select(c => c.ColumnName).ToList();
            int Find(string name) => names.IndexOf(name) is >= 0 and var i
                ? i
                : throw new InvalidOperationException($"The decoded events table has no column {name}.");
            var map = new ColumnMap
            {
                Count = names.Count,
                Kinds = new ColumnKind[names.Count],
                TopicId = Find("topic_id"),
                Shard = Find("shard"),
                EventId = Find("event_id"),
                IngestTime = Find("ingest_time"),
                ProducerTime = Find("producer_time"),
                Key = Find("key"),
                Payload = Find("payload"),
                Headers = Find("headers"),
                ContentType = Find("content_type"),
            };
            map.Kinds[map.TopicId] = ColumnKind.Int32;
            map.Kinds[map.Shard] = ColumnKind.Int32;
            map.Kinds[map.EventId] = ColumnKind.Int64;
            map.Kinds[map.IngestTime] = ColumnKind.Timestamp;
            map.Kinds[map.ProducerTime] = ColumnKind.Timestamp;
            map.Kinds[map.Key] = ColumnKind.Bytes;
            map.Kinds[map.Payload] = ColumnKind.Bytes;
            map.Kinds[map.Headers] = ColumnKind.Text;
            map.Kinds[map.ContentType] = ColumnKind.Text;
            return map;
        }
    }
}

/// <summary>
/// The events of one committed transaction, in their order in it; or, with <see cref="Barrier"/>
/// set, a barrier message's token and no events.
/// </summary>
internal sealed record DecodedTransaction(ulong CommitLsn, ulong EndLsn, IReadOnlyList<StreamedEvent> Events, string? Barrier = null);
