namespace EventStream.Broker.Consuming;

/// <summary>The members of one group on this broker: their sessions, heartbeats and expiry, attaching, detaching and leaving, waking them.</summary>
/// <remarks>
/// What a member holds is read from the shard queues (<see cref="ShardQueue.Owner"/>), never
/// recorded here. Not thread-safe: the coordinator's lock guards it, so that a member leaves, or
/// its session ends, in the same step as its shards are released or redelivered.
/// </remarks>
internal sealed class GroupMembers(IReadOnlyList<ShardQueue> shards, TimeProvider timeProvider)
{
    private readonly Dictionary<string, ConnectedMember> _members = new(StringComparer.Ordinal);

    /// <summary>When a member was last attached (stopwatch timestamp), for stopping idle groups.</summary>
    public long LastActive { get; private set; } = timeProvider.GetTimestamp();

    public int Count => _members.Count;

    /// <summary>Whether a member may attach: it is here already, or the group has fewer than <paramref name="maxMembers"/>.</summary>
    public bool HasRoomFor(string memberId, int maxMembers) => _members.Count < maxMembers || _members.ContainsKey(memberId);

    /// <summary>Adds (or finds) a member; a Subscribe call starts a new session of it.</summary>
    public ConnectedMember Attach(string memberId, TimeSpan sessionTimeout, bool streaming)
    {
        var now = timeProvider.GetTimestamp();
        LastActive = now;
        if (!_members.TryGetValue(memberId, out var member))
        {
            member = new ConnectedMember(memberId, sessionTimeout, streaming, now);
            _members[memberId] = member;
        }
        if (streaming)
        {
            // A new session of the member: events sent into its last connection may never have
            // arrived, and it has been told nothing yet (the next balancing round tells it).
            RedeliverHeldBy(member);
            member.Announced.Clear();
            member.StartSession();
        }
        member.SessionTimeout = sessionTimeout;
        member.Streaming = streaming;
        member.LastSeen = now;
        member.Left = false;
        return member;
    }

    /// <summary>
    /// A member's session ended without leaving: what it received and did not commit goes out
    /// again, to its next session or to the next owner of each shard. An older session ending
    /// after a newer one began changes nothing.
    /// </summary>
    public void Detach(ConnectedMember member, int session)
    {
        if (member.Session == session)
        {
            member.Streaming = false;
            RedeliverHeldBy(member);
        }
    }

    /// <summary>A clean leave: the member is gone, and its shards have no owner here until a balancing round gives them out.</summary>
    public void Leave(string memberId)
    {
        if (_members.Remove(memberId, out var member))
        {
            member.Left = true;
            foreach (var (shard, epoch) in HeldBy(member))
            {
                shards[shard].Assign(null, epoch);
            }
            member.Announced.Clear();
            member.Wake();
        }
    }

    /// <summary>The member was heard from (a heartbeat, a commit).</summary>
    public void Touch(ConnectedMember member) => member.LastSeen = timeProvider.GetTimestamp();

    /// <summary>Forgets members silent past their session timeout; their sessions end.</summary>
    public void ExpireSilent()
    {
        foreach (var silent in _members.Values.Where(m => timeProvider.GetElapsedTime(m.LastSeen) > m.SessionTimeout).ToList())
        {
            // Its leases expire in the database; other members take the shards.
            _members.Remove(silent.Id);
            silent.Left = true;
            silent.Wake();
        }
    }

    /// <summary>Subscribe members whose last balancing round is a heartbeat interval ago.</summary>
    public List<ConnectedMember> DueForBalancing() =>
        _members.Values
            .Where(m => m.Streaming && timeProvider.GetElapsedTime(m.LastBalanced) >= ConsumeOptions.HeartbeatFor(m.SessionTimeout))
            .ToList();

    /// <summary>Wakes the delivery of the shard's owner, when that member is attached here.</summary>
    public void WakeOwnerOf(ShardQueue queue)
    {
        if (queue.Owner is { } owner && _members.TryGetValue(owner, out var member))
        {
            member.Wake();
        }
    }

    /// <summary>The group stops on this broker: every session ends, and its member joins again.</summary>
    public void EndAll()
    {
        foreach (var member in _members.Values)
        {
            member.Left = true;
            member.Wake();
        }
    }

    /// <summary>The shards whose queue the member owns, with their epochs, in shard order.</summary>
    public List<KeyValuePair<int, long>> HeldBy(ConnectedMember member)
    {
        var held = new List<KeyValuePair<int, long>>();
        foreach (var queue in shards)
        {
            if (queue.Owner == member.Id)
            {
                held.Add(new(queue.Shard, queue.Epoch));
            }
        }
        return held;
    }

    /// <summary>The next delivery of each shard the member holds starts from its oldest uncommitted event.</summary>
    private void RedeliverHeldBy(ConnectedMember member)
    {
        foreach (var (shard, _) in HeldBy(member))
        {
            shards[shard].Redeliver();
        }
    }
}
