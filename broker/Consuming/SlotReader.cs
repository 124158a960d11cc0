using System.Runtime.CompilerServices;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.Internal;
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
        var connection = new LogicalReplicationConnection(await ReplicationHost.ResolveAsync(connectionString, cancellationToken))
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
        List<KeyValuePair<string, string?>> options =
        [
            new("proto_version", "1"),
            new("publication_names", Publication),
            new("binary", "true"),
        ];
        if (_barriers)
        {
            options.Add(new("messages", "true"));
        }
        var decoder = new PgOutputDecoder(_node);
        var buffer = new byte[64 * 1024];
        await foreach (var message in _connection.StartLogicalReplication(
            new PgOutputReplicationSlot(_slotName), cancellationToken, options: options, bypassingStream: true))
        {
            var length = 0;
            int read;
            while ((read = await message.Data.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
            }
            if (decoder.Decode(buffer.AsSpan(0, length), BarrierPrefix) is not { } decoded)
            {
                continue;
            }
            if (decoded.Barrier is null && decoded.Events.Count == 0)
            {
                ProcessedLsn = decoded.EndLsn;
                continue;
            }
            yield return decoded;
            if (decoded.Barrier is null)
            {
                ProcessedLsn = decoded.EndLsn;
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
}

/// <summary>
/// The events of one committed transaction, in their order in it; or, with <see cref="Barrier"/>
/// set, a barrier message's token and no events.
/// </summary>
internal sealed record DecodedTransaction(ulong CommitLsn, ulong EndLsn, IReadOnlyList<StreamedEvent> Events, string? Barrier = null);
