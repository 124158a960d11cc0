using System.Globalization;
using System.Text;

namespace EventStream.Broker.Reading;

/// <summary>
/// Events one transaction stored for one topic: ids <see cref="FirstEventId"/> to
/// <see cref="LastEventId"/>, all with the transaction's <see cref="IngestTime"/> (which names their
/// partition, so fetching them is one index range in one partition).
/// </summary>
internal readonly record struct CommitNotice(DateTime IngestTime, int TopicId, long FirstEventId, long LastEventId);

/// <summary>
/// The text of the notifications carrying <see cref="CommitNotice"/>s:
/// <c>&lt;ingest time in µs since the Unix epoch&gt; &lt;topic&gt;:&lt;first&gt;:&lt;last&gt; ...</c>, kept under
/// PostgreSQL's 8,000-byte payload limit.
/// </summary>
internal static class CommitNoticeText
{
    public const string Channel = "eventstream_commits";

    /// <summary>Below PostgreSQL's limit of 8,000 bytes per payload.</summary>
    public const int MaxPayloadLength = 7_900;

    /// <summary>One payload per run of notices with the same ingest time that fits the limit.</summary>
    public static IEnumerable<string> Format(IReadOnlyList<CommitNotice> notices)
    {
        var text = new StringBuilder();
        DateTime? time = null;
        foreach (var notice in notices)
        {
            var range = string.Create(CultureInfo.InvariantCulture, $" {notice.TopicId}:{notice.FirstEventId}:{notice.LastEventId}");
            if (time != notice.IngestTime || text.Length + range.Length > MaxPayloadLength)
            {
                if (text.Length > 0)
                {
                    yield return text.ToString();
                }
                text.Clear().Append(((notice.IngestTime.Ticks - DateTime.UnixEpoch.Ticks) / 10).ToString(CultureInfo.InvariantCulture));
                time = notice.IngestTime;
            }
            text.Append(range);
        }
        if (text.Length > 0)
        {
            yield return text.ToString();
        }
    }

    /// <summary>The notices of a payload; none when it is not one of ours.</summary>
    public static List<CommitNotice> Parse(string payload)
    {
        var notices = new List<CommitNotice>();
        var parts = payload.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
        {
            return notices;
        }
        var time = new DateTime(DateTime.UnixEpoch.Ticks + micros * 10, DateTimeKind.Utc);
        foreach (var part in parts.AsSpan(1))
        {
            var fields = part.Split(':');
            if (fields.Length == 3
                && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var topic)
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                notices.Add(new CommitNotice(time, topic, first, last));
            }
        }
        return notices;
    }
}
