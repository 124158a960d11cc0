namespace EventStream.Broker.Consuming;

/// <summary>
/// The topics a group reads: its patterns resolved to topic ids, and every topic's name for
/// rendering. Events of a topic not known yet (created since the last look, perhaps one a prefix
/// pattern covers, or deleted since) trigger a refresh. Each refresh publishes a new immutable
/// view, so readers need no lock.
/// </summary>
internal sealed class GroupTopics(GroupStore store, TopicPatterns patterns, TimeProvider timeProvider)
{
    private static readonly TimeSpan DeletedRecheckInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile View _view = new(new Dictionary<int, string>(), new HashSet<int>(), []);
    private volatile TopicPatterns _patterns = patterns;
    // When the last refresh began (stopwatch timestamp).
    private long _refreshedAt;

    public bool Reads(int topicId) => _view.Ids.Contains(topicId);

    public string NameOf(int topicId) => _view.Names.GetValueOrDefault(topicId, "");

    public int[] Ids => [.. _view.Ids];

    /// <summary>A member subscribing with other patterns changes what the group reads.</summary>
    public void Resubscribe(TopicPatterns patterns)
    {
        if (!_patterns.Patterns.SequenceEqual(patterns.Patterns))
        {
            _patterns = patterns;
            _ = RefreshAsync(CancellationToken.None);
        }
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            await RefreshHeldAsync(cancellationToken);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Makes sure every topic of <paramref name="events"/> is known. A refresh begun after the
    /// events were decoded knows every topic they can belong to, so the nodes' streams share one;
    /// ids still unknown after it belong to deleted topics and are looked up again at most every
    /// <see cref="DeletedRecheckInterval"/>.
    /// </summary>
    public async Task LearnAsync(IReadOnlyList<StreamedEvent> events, CancellationToken cancellationToken)
    {
        var decodedAt = timeProvider.GetTimestamp();
        if (!HasUnknown(events, decodedAt))
        {
            return;
        }
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (!HasUnknown(events, decodedAt) || Interlocked.Read(ref _refreshedAt) >= decodedAt)
            {
                return;
            }
            var expired = DeletedExpired(decodedAt);
            var started = timeProvider.GetTimestamp();
            await RefreshHeldAsync(cancellationToken);
            Interlocked.Exchange(ref _refreshedAt, started);
            var view = _view;
            var deleted = expired ? [] : new HashSet<int>(view.Deleted);
            deleted.UnionWith(events.Select(e => e.TopicId).Where(id => !view.Names.ContainsKey(id)));
            _view = view with { Deleted = deleted };
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Loads the topics and publishes a new view. Holding <see cref="_refresh"/>, the only writer.</summary>
    private async Task RefreshHeldAsync(CancellationToken cancellationToken)
    {
        var topics = await store.LoadTopicsAsync(cancellationToken);
        var patterns = _patterns;
        _view = new(topics, topics.Where(t => patterns.Matches(t.Value)).Select(t => t.Key).ToHashSet(), _view.Deleted);
    }

    private bool DeletedExpired(long decodedAt) =>
        timeProvider.GetElapsedTime(Interlocked.Read(ref _refreshedAt), decodedAt) > DeletedRecheckInterval;

    private bool HasUnknown(IReadOnlyList<StreamedEvent> events, long decodedAt)
    {
        var view = _view;
        var deletedKnown = !DeletedExpired(decodedAt);
        foreach (var e in events)
        {
            if (!view.Names.ContainsKey(e.TopicId) && !(deletedKnown && view.Deleted.Contains(e.TopicId)))
            {
                return true;
            }
        }
        return false;
    }

    private sealed record View(IReadOnlyDictionary<int, string> Names, HashSet<int> Ids, HashSet<int> Deleted);
}
