using System.Globalization;

namespace EventStream.Client.Tests.Integration;

/// <summary>Keyed test events: payload <c>key:sequence</c>, the sequence counting per key from 0.</summary>
internal static class Keyed
{
    /// <summary>Produces <paramref name="perKey"/> events for each key, interleaved, in order per key, in requests of 1000.</summary>
    /// <param name="pause">A wait after each request, to spread production over time.</param>
    public static async Task<List<DeliveryResult>> ProduceAsync(EventStreamProducer producer, string topic, IReadOnlyList<string> keys, int perKey,
        int firstSequence = 0, TimeSpan? pause = null)
    {
        var events = new List<ProducerEvent>();
        for (var seq = firstSequence; seq < firstSequence + perKey; seq++)
        {
            foreach (var key in keys)
            {
                events.Add(new ProducerEvent($"{key}:{seq}", key));
            }
        }
        var results = new List<DeliveryResult>();
        foreach (var chunk in events.Chunk(1000))
        {
            results.AddRange(await producer.ProduceBatchAsync(topic, chunk));
            if (pause is { } wait)
            {
                await Task.Delay(wait);
            }
        }
        return results;
    }

    public static List<string> Keys(int count) => Enumerable.Range(0, count).Select(i => "key-" + i).ToList();

    public static (string Key, long Seq) Parse(ConsumedEvent e)
    {
        var payload = e.GetPayloadString();
        var colon = payload.LastIndexOf(':');
        return (payload[..colon], long.Parse(payload[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>Fails unless each key's sequence numbers increase in the order received.</summary>
    public static void AssertOrderedPerKey(IEnumerable<ConsumedEvent> received)
    {
        var last = new Dictionary<string, long>();
        foreach (var e in received)
        {
            var (key, seq) = Parse(e);
            if (last.TryGetValue(key, out var previous))
            {
                Assert.True(seq > previous, $"Key {key}: sequence {seq} arrived after {previous}.");
            }
            last[key] = seq;
        }
    }
}
