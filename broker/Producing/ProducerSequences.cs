using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventStream.Broker.Producing;

/// <summary>A stored batch a producer may retry: enough to acknowledge it again.</summary>
internal sealed record RememberedBatch(
    [property: JsonPropertyName("first_sequence")] long FirstSequence,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("first_event_id")] long FirstEventId,
    [property: JsonPropertyName("ingest_time")] DateTime IngestTime);

internal enum SequenceVerdict
{
    /// <summary>The next batch expected (or the producer is new): store it.</summary>
    Accept,
    /// <summary>Stored before; acknowledge it again.</summary>
    Duplicate,
    /// <summary>Ahead of the next sequence (or not 0 for a new producer): an earlier batch is missing (ABORTED, retry in order).</summary>
    Ahead,
    /// <summary>Behind and no longer remembered (FAILED_PRECONDITION).</summary>
    Behind,
}

/// <summary>
/// Idempotent produce, per producer and topic: the next sequence expected and the last batches
/// stored. A batch is accepted only in sequence order, so retries cannot reorder a producer's
/// events; a batch that was stored already is recognised by its first sequence and size.
/// </summary>
internal sealed class ProducerSequences(long nextSequence, List<RememberedBatch> recent, string recentJson)
{
    /// <summary>A producer and topic seen for the first time (the row's defaults).</summary>
    public static ProducerSequences New() => new(-1, [], "[]");

    // The JSON of recent until it changes: a state is copied, checked, remembered and written in
    // one transaction, and each of those needs it.
    private string? _recentJson = recentJson;

    public long NextSequence { get; private set; } = nextSequence;

    public IReadOnlyList<RememberedBatch> Recent => recent;

    public bool Changed { get; private set; }

    public (SequenceVerdict Verdict, RememberedBatch? Stored) Check(long firstSequence, int count)
    {
        // A producer new to this topic starts at 0: a later batch that overtook its first one must
        // wait for it, or the two would be stored out of order.
        if (firstSequence == Math.Max(NextSequence, 0))
        {
            return (SequenceVerdict.Accept, null);
        }
        foreach (var batch in recent)
        {
            if (batch.FirstSequence == firstSequence && batch.Count == count)
            {
                return (SequenceVerdict.Duplicate, batch);
            }
        }
        return (firstSequence > NextSequence ? SequenceVerdict.Ahead : SequenceVerdict.Behind, null);
    }

    public void Record(RememberedBatch batch, int remember)
    {
        NextSequence = batch.FirstSequence + batch.Count;
        recent.Add(batch);
        if (recent.Count > remember)
        {
            recent.RemoveRange(0, recent.Count - remember);
        }
        _recentJson = null;
        Changed = true;
    }

    /// <summary>The next sequence of the row this state was read from or written as (-1: a new producer).</summary>
    public long StoredNextSequence { get; } = nextSequence;

    /// <summary>The remembered batches of that row, as JSON.</summary>
    public string StoredRecentJson { get; } = recentJson;

    /// <summary>An unchanged copy, as the row reads once this state is written.</summary>
    public ProducerSequences Copy() => new(NextSequence, [.. recent], RecentJson());

    public string RecentJson() => _recentJson ??= JsonSerializer.Serialize(recent);

    public static ProducerSequences FromStored(long nextSequence, string recentJson) =>
        new(nextSequence, JsonSerializer.Deserialize<List<RememberedBatch>>(recentJson) ?? [], recentJson);
}
