using EventStream.Broker.Consuming;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>The buffer budget without a database: when slot readers stop, and what lets them go on.</summary>
public sealed class BufferBudgetTests
{
    [Fact]
    public void A_reader_waits_once_the_event_cap_is_reached_and_goes_on_after_a_commit()
    {
        var budget = new BufferBudget(maxEvents: 2, maxBytes: 1_000);
        budget.Add(10);
        Assert.Null(budget.WaitFor(0));
        budget.Add(10);

        var room = budget.WaitFor(0);
        Assert.NotNull(room);
        Assert.False(room.IsCompleted);

        budget.Free(1, 10);
        Assert.True(room.IsCompleted);
        Assert.Null(budget.WaitFor(0));
    }

    [Fact]
    public void The_byte_cap_stops_readers_too()
    {
        var budget = new BufferBudget(maxEvents: 100, maxBytes: 1_000);
        budget.Add(1_000);

        Assert.NotNull(budget.WaitFor(-1));
        budget.Free(1, 1_000);
        Assert.Null(budget.WaitFor(-1));
        Assert.Equal((0, 0L), (budget.Events, budget.Bytes));
    }

    [Fact]
    public void Events_held_back_by_a_node_stop_only_that_nodes_reader_and_the_table_read_ignores_them()
    {
        var budget = new BufferBudget(maxEvents: 2, maxBytes: 1_000);
        budget.Hold(1);
        budget.Hold(1);

        var room = budget.WaitFor(1);
        Assert.NotNull(room);
        Assert.Null(budget.WaitFor(2));
        Assert.Null(budget.WaitFor(-1));

        budget.Unhold(1, 1);
        Assert.True(room.IsCompleted);
        Assert.Null(budget.WaitFor(1));
    }

    [Fact]
    public void A_recount_replaces_the_held_events_per_node()
    {
        var budget = new BufferBudget(maxEvents: 2, maxBytes: 1_000);
        budget.Hold(1);
        budget.Hold(1);
        Assert.NotNull(budget.WaitFor(1));

        budget.RecountHeld([(1, 1), (2, 2)]);

        Assert.Null(budget.WaitFor(1));
        Assert.NotNull(budget.WaitFor(2));
    }
}
