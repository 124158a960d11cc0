using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

/// <summary>Members' leases on this broker: balancing rounds, assignments and revocations, the balancer's timer.</summary>
/// <remarks>
/// Rounds are decided by <see cref="LeaseBalancer"/> and applied in the database by compare-and-set
/// on the epoch; here their outcome sets each <see cref="ShardQueue.Owner"/>, the only record of
/// who holds a shard.
/// </remarks>
internal sealed partial class GroupCoordinator
{
    private static readonly TimeSpan BalancerTick = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// One balancing round for a member: renews its leases, claims or asks for shards, applies
    /// the result, and releases shards it was asked for once their delivered events are committed
    /// (or a session timeout has passed). Sends a Subscribe member its new assignment.
    /// </summary>
    public async Task BalanceAsync(ConnectedMember member, CancellationToken cancellationToken)
    {
        await member.Balancing.WaitAsync(cancellationToken);
        try
        {
            var grants = await _store.ObtainLeasesAsync(Group, member.Id, member.SessionTimeout, cancellationToken);
            var release = new List<int>();
            lock (_gate)
            {
                if (member.Left)
                {
                    return;
                }
                var now = _timeProvider.GetTimestamp();
                member.LastBalanced = now;
                var owned = _members.HeldBy(member);
                var granted = new HashSet<int>();
                var revoked = new List<int>();
                foreach (var grant in grants)
                {
                    var queue = _shards[grant.Shard];
                    queue.Assign(member.Id, grant.Epoch);
                    granted.Add(grant.Shard);
                    if (grant.HandingOver && !queue.Revoking)
                    {
                        queue.Revoking = true;
                        queue.RevokingSince = now;
                        revoked.Add(grant.Shard);
                    }
                    if (queue.Revoking && (queue.Delivered == 0 || _timeProvider.GetElapsedTime(queue.RevokingSince) > member.SessionTimeout))
                    {
                        release.Add(grant.Shard);
                    }
                }
                foreach (var (shard, _) in owned)
                {
                    if (!granted.Contains(shard))
                    {
                        _shards[shard].Assign(null, _shards[shard].Epoch);
                    }
                }
                if (member.Streaming)
                {
                    // Shards the member was told of and no longer holds (lapsed, or taken by another
                    // member meanwhile) are revoked, as are those it is asked to hand over.
                    revoked.AddRange(member.Announced.Keys.Where(shard => !granted.Contains(shard) && !revoked.Contains(shard)));
                    if (revoked.Count > 0)
                    {
                        var revocation = new Revocation();
                        revocation.Shards.Add(revoked.Order());
                        member.Control.Writer.TryWrite(new SubscribeResponse { Revoked = revocation });
                    }
                    if (!_members.HeldBy(member).SequenceEqual(member.Announced.OrderBy(s => s.Key)))
                    {
                        SendAssignment(member);
                    }
                }
                member.Wake();
            }

            foreach (var shard in release)
            {
                await _store.ReleaseLeaseAsync(Group, shard, member.Id, cancellationToken);
                lock (_gate)
                {
                    if (_shards[shard].Owner == member.Id)
                    {
                        _shards[shard].Assign(null, _shards[shard].Epoch);
                    }
                    if (member.Streaming)
                    {
                        SendAssignment(member);
                    }
                }
            }
        }
        finally
        {
            member.Balancing.Release();
        }
    }

    /// <summary>
    /// The member let go of shards being revoked from it (it committed what it processed and dropped
    /// the rest): what it was sent and did not commit goes to the next owner, and the shards are
    /// released now rather than after the session timeout.
    /// </summary>
    public async Task ReleaseAsync(ConnectedMember member, IEnumerable<int> shards, CancellationToken cancellationToken)
    {
        var any = false;
        lock (_gate)
        {
            foreach (var shard in shards)
            {
                if (shard >= 0 && shard < _shards.Length && _shards[shard] is { Revoking: true } queue && queue.Owner == member.Id)
                {
                    queue.Redeliver();
                    any = true;
                }
            }
        }
        if (any)
        {
            await BalanceAsync(member, cancellationToken);
        }
    }

    /// <summary>The leases a member holds, with the committed position of each.</summary>
    public List<ShardLease> LeasesOf(ConnectedMember member)
    {
        lock (_gate)
        {
            return _members.HeldBy(member).Select(s => Lease(s.Key, s.Value)).ToList();
        }
    }

    /// <summary>Tells a Subscribe member the shards it owns now. Under the lock.</summary>
    private void SendAssignment(ConnectedMember member)
    {
        var assignment = new Assignment();
        member.Announced.Clear();
        foreach (var (shard, epoch) in _members.HeldBy(member))
        {
            assignment.Shards.Add(Lease(shard, epoch));
            member.Announced[shard] = epoch;
        }
        member.Control.Writer.TryWrite(new SubscribeResponse { Assigned = assignment });
    }

    /// <summary>A shard's lease as a member is told of it, with the group's committed position. Under the lock.</summary>
    private ShardLease Lease(int shard, long epoch)
    {
        var lease = new ShardLease { Shard = shard, Epoch = epoch };
        if (_shards[shard].Committed is { } committed)
        {
            lease.Committed = EventMessages.ToMessage(committed);
        }
        return lease;
    }

    /// <summary>Balances Subscribe members every heartbeat interval, after forgetting members gone silent.</summary>
    private async Task RunBalancerAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(BalancerTick, _timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            List<ConnectedMember> due;
            lock (_gate)
            {
                _members.ExpireSilent();
                due = _members.DueForBalancing();
            }
            foreach (var member in due)
            {
                try
                {
                    await BalanceAsync(member, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    GroupLog.BalanceFailed(_logger, Group, member.Id, e.Message);
                }
            }
        }
    }
}
