namespace EventStream.Broker.Reading;

/// <summary>
/// Event ids a read sent from the table, as sorted disjoint ranges (a transaction's ids are
/// contiguous, so there are few): following skips them when their transaction's notice arrives
/// after the read began but the transaction committed before the table read's snapshot.
/// </summary>
internal sealed class SeenRanges
{
    private readonly List<(long First, long Last)> _ranges = [];

    /// <summary>Ids must come in increasing order, as the table read sends them.</summary>
    public void Add(long eventId)
    {
        if (_ranges.Count > 0 && _ranges[^1].Last + 1 == eventId)
        {
            _ranges[^1] = (_ranges[^1].First, eventId);
        }
        else
        {
            _ranges.Add((eventId, eventId));
        }
    }

    public bool Contains(long eventId)
    {
        int low = 0, high = _ranges.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var (first, last) = _ranges[middle];
            if (eventId < first)
            {
                high = middle - 1;
            }
            else if (eventId > last)
            {
                low = middle + 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }
}
