using EventStream.Client.Producer;

namespace EventStream.Client.Tests.Producer;

public class BatchAccumulatorTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);
    private readonly List<ProducerBatch> _sealed = [];

    [Fact]
    public void Batch_is_sealed_when_it_reaches_the_event_limit()
    {
        var accumulator = new BatchAccumulator(maxEvents: 3, maxBytes: 1000, Linger, TimeSpan.FromMinutes(2));
        for (var i = 0; i < 7; i++)
        {
            accumulator.Add(PendingEvents.Of(), TimeSpan.Zero, _sealed);
        }
        Assert.Equal([3, 3], _sealed.Select(b => b.Count));
        Assert.Equal(1, accumulator.Open!.Count);
    }

    [Fact]
    public void Batch_is_sealed_before_an_event_that_would_overflow_its_bytes()
    {
        var accumulator = new BatchAccumulator(maxEvents: 100, maxBytes: 100, Linger, TimeSpan.FromMinutes(2));
        accumulator.Add(PendingEvents.Of(40), TimeSpan.Zero, _sealed);
        accumulator.Add(PendingEvents.Of(40), TimeSpan.Zero, _sealed);
        Assert.Empty(_sealed);
        accumulator.Add(PendingEvents.Of(40), TimeSpan.Zero, _sealed);
        Assert.Equal([80], _sealed.Select(b => b.Bytes));
        Assert.Equal(40, accumulator.Open!.Bytes);
    }

    [Fact]
    public void Batch_that_reaches_the_byte_limit_exactly_is_sealed()
    {
        var accumulator = new BatchAccumulator(maxEvents: 100, maxBytes: 100, Linger, TimeSpan.FromMinutes(2));
        accumulator.Add(PendingEvents.Of(60), TimeSpan.Zero, _sealed);
        accumulator.Add(PendingEvents.Of(40), TimeSpan.Zero, _sealed);
        Assert.Equal([100], _sealed.Select(b => b.Bytes));
        Assert.Null(accumulator.Open);
    }

    [Fact]
    public void Event_larger_than_a_batch_goes_alone()
    {
        var accumulator = new BatchAccumulator(maxEvents: 100, maxBytes: 100, Linger, TimeSpan.FromMinutes(2));
        accumulator.Add(PendingEvents.Of(10), TimeSpan.Zero, _sealed);
        accumulator.Add(PendingEvents.Of(500), TimeSpan.Zero, _sealed);
        Assert.Equal([10, 500], _sealed.Select(b => b.Bytes));
        Assert.Null(accumulator.Open);
    }

    [Fact]
    public void Linger_counts_from_the_first_event_of_the_open_batch()
    {
        var accumulator = new BatchAccumulator(maxEvents: 100, maxBytes: 1000, Linger, TimeSpan.FromMinutes(2));
        Assert.Null(accumulator.LingerDue);
        Assert.False(accumulator.IsLingerDue(TimeSpan.FromHours(1)));
        accumulator.Add(PendingEvents.Of(), TimeSpan.FromMilliseconds(100), _sealed);
        accumulator.Add(PendingEvents.Of(), TimeSpan.FromMilliseconds(103), _sealed);
        Assert.Equal(TimeSpan.FromMilliseconds(105), accumulator.LingerDue);
        Assert.False(accumulator.IsLingerDue(TimeSpan.FromMilliseconds(104)));
        Assert.True(accumulator.IsLingerDue(TimeSpan.FromMilliseconds(105)));
        Assert.Equal(TimeSpan.FromMilliseconds(100) + TimeSpan.FromMinutes(2), accumulator.Open!.Deadline);

        var batch = accumulator.Seal();
        Assert.Equal(2, batch!.Count);
        Assert.Null(accumulator.Open);
        Assert.Null(accumulator.Seal());
    }

    [Fact]
    public void Event_can_be_withdrawn_only_while_its_batch_is_open()
    {
        var accumulator = new BatchAccumulator(maxEvents: 2, maxBytes: 1000, Linger, TimeSpan.FromMinutes(2));
        var first = PendingEvents.Of();
        var second = PendingEvents.Of();
        var third = PendingEvents.Of();
        accumulator.Add(first, TimeSpan.Zero, _sealed);
        accumulator.Add(second, TimeSpan.Zero, _sealed);
        accumulator.Add(third, TimeSpan.Zero, _sealed);

        Assert.False(accumulator.TryRemove(first));
        Assert.True(accumulator.TryRemove(third));
        Assert.Null(accumulator.Open);
        Assert.False(accumulator.TryRemove(third));
        Assert.Equal(2, _sealed.Single().Count);
    }
}
