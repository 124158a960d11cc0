using EventStream.Broker.Reading;

namespace EventStream.Broker.Tests.Reading;

/// <summary>The commit notices' text and the table read's remembered ids, without a database.</summary>
public sealed class CommitNoticeTests
{
    private static readonly DateTime Time = new(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Notices_survive_their_text_to_the_microsecond()
    {
        var notices = new List<CommitNotice>
        {
            new(Time.AddTicks(12_345_678), 7, 1_000_000, 1_000_499),
            new(Time.AddTicks(12_345_678), 9, 2_000_000, 2_000_000),
            new(Time.AddTicks(99), 7, 1_000_500, 1_000_600),
        };
        var payloads = CommitNoticeText.Format(notices).ToList();

        // One payload per ingest time; the time is kept in microseconds, as PostgreSQL stores it.
        Assert.Equal(2, payloads.Count);
        var parsed = payloads.SelectMany(CommitNoticeText.Parse).ToList();
        Assert.Equal(notices.Select(n => n with { IngestTime = Microseconds(n.IngestTime) }), parsed);
    }

    [Fact]
    public void Many_ranges_are_split_under_the_payload_limit()
    {
        var notices = Enumerable.Range(0, 2_000).Select(i => new CommitNotice(Time, 123_456, 9_000_000_000L + i * 10, 9_000_000_000L + i * 10 + 4)).ToList();
        var payloads = CommitNoticeText.Format(notices).ToList();

        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.True(p.Length <= CommitNoticeText.MaxPayloadLength, $"{p.Length} characters"));
        Assert.Equal(notices, payloads.SelectMany(CommitNoticeText.Parse));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("123")]
    [InlineData("123 x:1:2 4:5")]
    public void Text_that_is_not_a_notice_gives_none(string payload) =>
        Assert.Empty(CommitNoticeText.Parse(payload));

    [Fact]
    public void Seen_ranges_answer_for_the_ids_added_and_no_others()
    {
        var seen = new SeenRanges();
        long[] added = [5, 6, 7, 10, 11, 1_000_000, 1_000_001, 2_000_000];
        foreach (var id in added)
        {
            seen.Add(id);
        }
        foreach (var id in Enumerable.Range(0, 20).Select(i => (long)i).Concat([999_999, 1_000_000, 1_000_001, 1_000_002, 2_000_000, 2_000_001]))
        {
            Assert.Equal(added.Contains(id), seen.Contains(id));
        }
    }

    private static DateTime Microseconds(DateTime time) => new(time.Ticks - time.Ticks % 10, DateTimeKind.Utc);
}
