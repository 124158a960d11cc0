using System.Threading.Channels;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

/// <summary>One member of a group attached to this broker: its session, what it was told and what it waits for.</summary>
/// <remarks>
/// Which shards it owns is not kept here: each <see cref="ShardQueue"/> names its owner. Its state
/// changes under the coordinator's lock (see <see cref="GroupMembers"/>); waking it and its control
/// channel work from any thread.
/// </remarks>
internal sealed class ConnectedMember(string id, TimeSpan sessionTimeout, bool streaming, long now)
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public string Id { get; } = id;

    public TimeSpan SessionTimeout { get; set; } = sessionTimeout;

    /// <summary>True for a Subscribe session (the broker balances and pushes); false for Poll.</summary>
    public bool Streaming { get; set; } = streaming;

    /// <summary>
    /// The shards and epochs of the last assignment sent to the member's session: what it believes
    /// it holds, so a balancing round knows what to revoke and whether to send a new assignment.
    /// </summary>
    public Dictionary<int, long> Announced { get; } = [];

    /// <summary>Control messages for the current Subscribe session (assignments, revocations).</summary>
    public Channel<SubscribeResponse> Control { get; private set; } = Channel.CreateUnbounded<SubscribeResponse>();

    /// <summary>
    /// The current Subscribe session: a member that reconnects starts a new one, and the older
    /// session, perhaps on a connection not yet known to be dead, stops delivering.
    /// </summary>
    public int Session { get; private set; }

    public int StartSession()
    {
        Control = Channel.CreateUnbounded<SubscribeResponse>();
        return ++Session;
    }

    /// <summary>When the member was last heard from (stopwatch timestamp).</summary>
    public long LastSeen { get; set; } = now;

    public long LastBalanced { get; set; }

    /// <summary>
    /// One balancing round of the member at a time: a round applies leases obtained before it, so
    /// an overlapping one (the balancer's, a release's) could hand back a shard just released.
    /// </summary>
    public SemaphoreSlim Balancing { get; } = new(1, 1);

    /// <summary>
    /// The shard a delivery starts from when the last one was cut short by its limits, so the
    /// member's shards take turns instead of the first ones crowding out the others.
    /// </summary>
    public int NextShard { get; set; }

    public bool Left { get; set; }

    /// <summary>Wakes the member's delivery: events or control messages are waiting.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
