using System.Threading.Channels;
using Grpc.Core;

namespace EventStream.Broker.Reading;

/// <summary>
/// One follower's share of the commit notices: those of its topic, queued until it fetches their
/// events. Ends with UNAVAILABLE when the notices may have gaps (the channel was lost, the follower
/// fell too far behind, the broker is stopping): it must not carry on as if nothing was missed.
/// </summary>
internal sealed class FollowSubscription(int topicId, Action<FollowSubscription> onDispose) : IDisposable
{
    /// <summary>Notices queued for one follower before it is ended as too slow (about 40 bytes each).</summary>
    public const int MaxQueuedNotices = 100_000;

    private readonly Channel<CommitNotice> _notices = Channel.CreateBounded<CommitNotice>(
        new BoundedChannelOptions(MaxQueuedNotices) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public int TopicId { get; } = topicId;

    /// <summary>Throws the reason the subscription ended, once its queued notices are read.</summary>
    public ChannelReader<CommitNotice> Notices => _notices.Reader;

    public void Offer(CommitNotice notice)
    {
        if (!_notices.Writer.TryWrite(notice))
        {
            End(new RpcException(new Status(StatusCode.Unavailable,
                $"The read fell more than {MaxQueuedNotices} transactions behind the topic; read again after the last event received.")));
        }
    }

    public void End(Exception reason) => _notices.Writer.TryComplete(reason);

    public void Dispose()
    {
        _notices.Writer.TryComplete();
        onDispose(this);
    }
}
