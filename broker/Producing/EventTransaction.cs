using Grpc.Core;
using Npgsql;
using System.Buffers;
using EventStream.Broker.Reading;

namespace EventStream.Broker.Producing;

/// <summary>
/// One group-commit transaction: checks idempotence state, stores the accepted batches with a
/// single binary COPY, records the new sequence state and announces the stored id ranges to
/// group-less readers (<see cref="CommitNotice"/>), all committed together.
/// </summary>
/// <param name="sequences">
/// The state the writer's earlier transactions leave: when it knows every producer of the
/// transaction, the rows are neither read nor locked first, and the commit verifies them instead.
/// </param>
/// <param name="copyBuffer">
/// Where the COPY rows are written, reused by the writer from one transaction to the next: a
/// transaction's rows take megabytes, and a fresh large array each time costs more in page
/// faults and collections than writing the rows.
/// </param>
/// <param name="previous">The writer's transaction before this one, which this one follows.</param>
internal sealed class EventTransaction(
    NpgsqlDataSource dataSource, EventIdAllocator ids, int rememberedBatches, SequenceCache sequences, ArrayBufferWriter<byte> copyBuffer, TransactionOrder previous)
{
    private const string CopyCommand = "COPY eventstream.events (" + BinaryCopyWriter.Columns + ") FROM STDIN (FORMAT BINARY)";

    // "no partition of relation found for row": the partition timers fell behind.
    private const string NoPartitionSqlState = "23514";

    // A producer's row is not what the writer remembered (another broker served the producer, or
    // the writer's previous transaction failed), or two brokers deadlocked on producers' rows.
    private const string SerializationFailureSqlState = "40001";
    private const string DeadlockSqlState = "40P01";

    /// <summary>How far this transaction got, for the writer's next one.</summary>
    public TransactionOrder Order { get; } = new();

    /// <summary>Commits the batches; returns each one's outcome, in order. Throws when nothing was committed.</summary>
    public async Task<BatchResult[]> CommitAsync(IReadOnlyList<PendingBatch> batches, DateTime ingestTime, CancellationToken cancellationToken)
    {
        try
        {
            return await CommitInOrderAsync(batches, ingestTime, cancellationToken);
        }
        finally
        {
            Order.OnDone();
        }
    }

    /// <summary>The stored (not duplicate) batches' id ranges, one per run of contiguous ids of a topic.</summary>
    private static List<CommitNotice> NoticesOf(IReadOnlyList<PendingBatch> batches, BatchResult[] results)
    {
        var notices = new List<CommitNotice>();
        for (var i = 0; i < batches.Count; i++)
        {
            if (results[i].Outcome is not { Duplicate: false } stored || batches[i].Events.Count == 0)
            {
                continue;
            }
            var last = stored.FirstEventId + batches[i].Events.Count - 1;
            if (notices.Count > 0 && notices[^1] is var run && run.TopicId == batches[i].Topic.Id
                && run.IngestTime == stored.IngestTime && run.LastEventId + 1 == stored.FirstEventId)
            {
                notices[^1] = run with { LastEventId = last };
                continue;
            }
            notices.Add(new CommitNotice(stored.IngestTime, batches[i].Topic.Id, stored.FirstEventId, last));
        }
        return notices;
    }

    private async Task<BatchResult[]> CommitInOrderAsync(IReadOnlyList<PendingBatch> batches, DateTime ingestTime, CancellationToken cancellationToken)
    {
        var keys = SequenceStore.KeysOf(batches);
        var trustRemembered = true;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryCommitAsync(batches, keys, ingestTime, trustRemembered, cancellationToken);
            }
            catch (PostgresException e) when (attempt < 3 && e.SqlState is SerializationFailureSqlState or DeadlockSqlState)
            {
                sequences.Forget(keys);
                trustRemembered = false;
            }
            catch (PostgresException e) when (attempt < 3 && e.SqlState == NoPartitionSqlState)
            {
                // Bounded: creating a partition waits for every transaction writing events, and the
                // writer's next one may be waiting for this one.
                await using var command = dataSource.CreateCommand(
                    "SELECT set_config('lock_timeout', '5s', true), eventstream.ensure_partitions()");
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (batches.Count > 1 && IsRowRejection(e))
            {
                // One batch's row was refused and the whole transaction with it: the other requests'
                // batches must not fail for it. Each batch goes again, alone, in order.
                sequences.Forget(keys);
                return await CommitEachAloneAsync(batches, ingestTime, cancellationToken);
            }
            catch
            {
                // Whether the commit went through is unknown: read the rows next time.
                sequences.Forget(keys);
                throw;
            }
        }
    }

    private async Task<BatchResult[]> CommitEachAloneAsync(IReadOnlyList<PendingBatch> batches, DateTime ingestTime, CancellationToken cancellationToken)
    {
        var results = new BatchResult[batches.Count];
        for (var i = 0; i < batches.Count; i++)
        {
            try
            {
                results[i] = (await CommitInOrderAsync([batches[i]], ingestTime, cancellationToken))[0];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results[i] = BatchResult.Rejected(e);
            }
        }
        return results;
    }

    /// <summary>PostgreSQL refused a value (data exceptions, integrity violations, program limits), not the transaction's circumstances.</summary>
    private static bool IsRowRejection(PostgresException e) =>
        e.SqlState != NoPartitionSqlState && (e.SqlState.StartsWith("22", StringComparison.Ordinal)
            || e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("54", StringComparison.Ordinal));

    private async Task<BatchResult[]> TryCommitAsync(
        IReadOnlyList<PendingBatch> batches, (string Producer, int Topic)[] keys, DateTime ingestTime, bool trustRemembered, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await previous.Checked;
        var states = trustRemembered ? sequences.TryCopy(keys) : null;
        if (states is null)
        {
            // Reading locks the rows until commit: wait for the previous transaction, which may
            // need them, to finish first.
            await previous.Done;
            states = await SequenceStore.LoadAsync(connection, keys, cancellationToken);
        }

        var results = new BatchResult[batches.Count];
        var accepted = new List<(PendingBatch Batch, long FirstEventId)>(batches.Count);
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            if (batch.ProducerId is null)
            {
                var firstId = await ids.ReserveAsync(batch.Events.Count, connection, cancellationToken);
                accepted.Add((batch, firstId));
                results[i] = BatchResult.Stored(new BatchOutcome(firstId, ingestTime, false));
                continue;
            }
            var state = states[(batch.ProducerId, batch.Topic.Id)];
            var (verdict, stored) = state.Check(batch.FirstSequence, batch.Events.Count);
            switch (verdict)
            {
                case SequenceVerdict.Accept:
                    var firstId = await ids.ReserveAsync(batch.Events.Count, connection, cancellationToken);
                    state.Record(new RememberedBatch(batch.FirstSequence, batch.Events.Count, firstId, ingestTime), rememberedBatches);
                    accepted.Add((batch, firstId));
                    results[i] = BatchResult.Stored(new BatchOutcome(firstId, ingestTime, false));
                    break;
                case SequenceVerdict.Duplicate:
                    results[i] = BatchResult.Stored(new BatchOutcome(stored!.FirstEventId, stored.IngestTime, true));
                    break;
                case SequenceVerdict.Ahead:
                    results[i] = BatchResult.Rejected(new RpcException(new Status(StatusCode.Aborted,
                        $"Out of order: producer '{batch.ProducerId}' sent sequence {batch.FirstSequence} to topic '{batch.Topic.Name}' but {Math.Max(state.NextSequence, 0)} is next. Send the earlier batches first.")));
                    break;
                default:
                    results[i] = BatchResult.Rejected(new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"Producer '{batch.ProducerId}' sent sequence {batch.FirstSequence} to topic '{batch.Topic.Name}', which is behind {state.NextSequence} and no longer remembered; it cannot be acknowledged again.")));
                    break;
            }
        }

        // The next transaction checks its batches from here; if this one fails, its commit check fails.
        sequences.Store(states);
        Order.OnChecked();

        if (accepted.Count > 0)
        {
            await CopyAsync(connection, accepted, ingestTime, cancellationToken);
        }
        await previous.Done;
        // The notices ride on the commit: PostgreSQL sends them when, and only if, it commits.
        var notices = CommitNoticeText.Format(NoticesOf(batches, results)).ToArray();
        await SequenceStore.SaveAndCommitAsync(connection, transaction, states, notices, cancellationToken);
        return results;
    }

    private async Task CopyAsync(NpgsqlConnection connection, List<(PendingBatch Batch, long FirstEventId)> accepted, DateTime ingestTime, CancellationToken cancellationToken)
    {
        var size = 21;
        foreach (var (batch, _) in accepted)
        {
            foreach (var row in batch.Events)
            {
                size += BinaryCopyWriter.MaxRowSize(row);
            }
        }
        copyBuffer.ResetWrittenCount();
        copyBuffer.GetSpan(size);
        var rows = new BinaryCopyWriter(copyBuffer);
        rows.WriteHeader();
        foreach (var (batch, firstEventId) in accepted)
        {
            for (var i = 0; i < batch.Events.Count; i++)
            {
                rows.WriteRow(batch.Topic.Id, firstEventId + i, ingestTime, batch.Events[i]);
            }
        }
        rows.WriteTrailer();
        await using var copy = await connection.BeginRawBinaryCopyAsync(CopyCommand, cancellationToken);
        await copy.WriteAsync(copyBuffer.WrittenMemory, cancellationToken);
    }
}

/// <summary>What happened to one batch of a transaction.</summary>
internal readonly record struct BatchResult(BatchOutcome? Outcome, Exception? Error)
{
    public static BatchResult Stored(BatchOutcome outcome) => new(outcome, null);

    public static BatchResult Rejected(Exception error) => new(null, error);

    public void Deliver(PendingBatch batch)
    {
        if (Outcome is { } outcome)
        {
            batch.Complete(outcome);
        }
        else
        {
            batch.Fail(Error!);
        }
    }
}
