using EventStream.Grpc;

namespace EventStream.Broker.Consuming;

internal sealed partial class GroupCoordinator
{
    // Clocks of brokers and database differ a little: a restarted table read goes this far past
    // the slot's creation, preferring repeats to gaps.
    private static readonly TimeSpan BackfillMargin = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan TopicRefreshInterval = TimeSpan.FromSeconds(1);

    private volatile SlotReader? _reader;
    private long _topicsRefreshedAt;

    private async Task RunStreamAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PrepareSlotAsync(stoppingToken);
                await using var reader = await SlotReader.OpenAsync(_connectionString, SlotNames.ForGroup(Group), stoppingToken);
                _reader = reader;
                GroupLog.Streaming(_logger, Group);
                await foreach (var transaction in reader.ReadAsync(stoppingToken))
                {
                    await WaitForRoomAsync(stoppingToken);
                    await AppendAsync(transaction.Events, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                GroupLog.StreamFailed(_logger, Group, e);
                if (!_slotReady.Task.IsCompleted)
                {
                    // Nobody can join a group without its slot; let them know instead of waiting.
                    _slotReady.TrySetException(new GrpcException(GrpcStatusCode.Unavailable,
                        $"The replication slot of group '{Group}' could not be set up: {e.Message}"));
                }
                try
                {
                    await Task.Delay(_options.ReconnectDelay, _timeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                _reader = null;
            }
        }
    }

    /// <summary>
    /// Creates the slot on the group's first start, reading the events the group starts with from
    /// the table under the snapshot the slot exports; after a restart that interrupted that read,
    /// finishes it without the snapshot.
    /// </summary>
    private async Task PrepareSlotAsync(CancellationToken cancellationToken)
    {
        var group = await _store.LoadGroupAsync(Group, cancellationToken)
            ?? throw new InvalidOperationException($"Group {Group} was deleted.");
        var slot = SlotNames.ForGroup(Group);
        var backfillFrom = group.BackfillDone ? null : group.BackfillFrom;
        if (!await GroupSlot.ExistsAsync(_store.DataSource, slot, cancellationToken))
        {
            await using var created = await GroupSlot.CreateAsync(_connectionString, slot, cancellationToken);
            GroupLog.SlotCreated(_logger, Group, slot);
            _slotReady.TrySetResult();
            if (backfillFrom is { } from)
            {
                var until = _timeProvider.GetUtcNow().UtcDateTime;
                await _store.MarkBackfillStartedAsync(Group, until, cancellationToken);
                await BackfillAsync(created.SnapshotName, from, until, cancellationToken);
                await _store.MarkBackfillDoneAsync(Group, cancellationToken);
            }
            return;
        }
        _slotReady.TrySetResult();
        if (backfillFrom is { } restartFrom)
        {
            // A restart interrupted the table read and took the snapshot with it: read again up to
            // the slot's creation; events near the seam may come twice, none is missed.
            var until = (group.BackfillUntil ?? _timeProvider.GetUtcNow().UtcDateTime) + BackfillMargin;
            await BackfillAsync(null, restartFrom, until, cancellationToken);
            await _store.MarkBackfillDoneAsync(Group, cancellationToken);
        }
    }

    private async Task BackfillAsync(string? snapshot, DateTime from, DateTime until, CancellationToken cancellationToken)
    {
        int[] topics;
        Dictionary<int, EventPosition> committed;
        lock (_gate)
        {
            topics = _topicIds.ToArray();
            committed = _shards.Where(s => s.Committed is not null).ToDictionary(s => s.Shard, s => s.Committed!.Value);
        }
        var count = 0;
        await foreach (var e in BackfillReader.ReadAsync(_store.DataSource, snapshot, topics, from, until, committed, cancellationToken))
        {
            await WaitForRoomAsync(cancellationToken);
            await AppendAsync([e], cancellationToken);
            count++;
        }
        GroupLog.BackfillRead(_logger, Group, count, snapshot is not null);
    }

    private async Task AppendAsync(IReadOnlyList<StreamedEvent> events, CancellationToken cancellationToken)
    {
        if (events.Any(e => !_topicNames.ContainsKey(e.TopicId))
            && _timeProvider.GetElapsedTime(Interlocked.Read(ref _topicsRefreshedAt)) > TopicRefreshInterval)
        {
            // A topic created since the last look, perhaps one a prefix pattern covers.
            Interlocked.Exchange(ref _topicsRefreshedAt, _timeProvider.GetTimestamp());
            await RefreshTopicsAsync(cancellationToken);
        }
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (!_topicIds.Contains(e.TopicId) || e.Shard < 0 || e.Shard >= _shards.Length)
                {
                    continue;
                }
                var queue = _shards[e.Shard];
                if (queue.TryAppend(e))
                {
                    _bufferedEvents++;
                    _bufferedBytes += e.Size;
                    if (queue.Owner is { } owner && _members.TryGetValue(owner, out var member))
                    {
                        member.Wake();
                    }
                }
            }
        }
    }

    /// <summary>Backpressure: while the group holds its cap of uncommitted events, read nothing more.</summary>
    private async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task room;
            lock (_gate)
            {
                if (HasRoom())
                {
                    return;
                }
                if (_room.Task.IsCompleted)
                {
                    _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                room = _room.Task;
            }
            await room.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Releases WAL: up to the oldest buffered streamed event, or all that was processed.</summary>
    private async Task RunFlushAsync(CancellationToken stoppingToken)
    {
        ulong flushed = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.FlushInterval, _timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (_reader is not { } reader)
            {
                continue;
            }
            ulong? oldest = null;
            lock (_gate)
            {
                foreach (var queue in _shards)
                {
                    if (queue.OldestStreamedLsn() is { } lsn && (oldest is null || lsn < oldest))
                    {
                        oldest = lsn;
                    }
                }
            }
            var flush = oldest ?? reader.ProcessedLsn;
            if (flush > flushed)
            {
                reader.ConfirmFlush(flush);
                flushed = flush;
            }
        }
    }
}
