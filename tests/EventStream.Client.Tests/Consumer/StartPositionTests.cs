using System.ComponentModel;

namespace EventStream.Client.Tests.Consumer;

public class StartPositionTests
{
    [Theory]
    [InlineData("Latest", StartPositionKind.Latest)]
    [InlineData("earliest", StartPositionKind.Earliest)]
    [InlineData(" EARLIEST ", StartPositionKind.Earliest)]
    public void Configuration_text_names_the_kind(string text, StartPositionKind kind)
    {
        var position = (StartPosition)TypeDescriptor.GetConverter(typeof(StartPosition)).ConvertFromInvariantString(text)!;
        Assert.Equal(kind, position.Kind);
        Assert.Null(position.Time);
    }

    [Fact]
    public void Configuration_text_can_be_a_time_taken_as_utc_without_an_offset()
    {
        var converter = TypeDescriptor.GetConverter(typeof(StartPosition));

        var withOffset = (StartPosition)converter.ConvertFromInvariantString("2025-01-31T12:00:00+01:00")!;
        var withoutOffset = (StartPosition)converter.ConvertFromInvariantString("2025-01-31T12:00:00")!;

        Assert.Equal(StartPosition.FromTime(new DateTimeOffset(2025, 1, 31, 11, 0, 0, TimeSpan.Zero)), withOffset);
        Assert.Equal(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero), withoutOffset.Time);
    }

    [Fact]
    public void Unknown_text_fails_with_what_is_allowed()
    {
        var e = Assert.Throws<FormatException>(() => TypeDescriptor.GetConverter(typeof(StartPosition)).ConvertFromInvariantString("yesterday"));
        Assert.Contains("Latest, Earliest or a time", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Positions_compare_by_lsn_then_ordinal_then_event_id()
    {
        Assert.True(new EventPosition(0, 2, 0, 1) > new EventPosition(0, 1, 9, 9));
        Assert.True(new EventPosition(0, 1, 2, 1) > new EventPosition(0, 1, 1, 9));
        Assert.True(new EventPosition(0, 0, 0, 5) < new EventPosition(0, 0, 0, 6));
        Assert.True(new EventPosition(0, 1, 1, 1) <= new EventPosition(0, 1, 1, 1));
    }
}
