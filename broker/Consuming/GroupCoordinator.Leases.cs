using EventStream.Protocol.V1;

namespace EventStream.Broker.Consuming;

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
            var before = member.Shards.ToDictionary();
            var revoked = new List<int>();
            member.Shards.Clear();
            foreach (var grant in grants)
            {
                var queue = _shards[grant.Shard];
                queue.Assign(member.Id, grant.Epoch);
                member.Shards[grant.Shard] = grant.Epoch;
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
            foreach (var (shard, _) in before)
            {
                if (!member.Shards.ContainsKey(shard))
                {
                    revoked.Add(shard);
                    if (_shards[shard].Owner == member.Id)
                    {
                        _shards[shard].Assign(null, _shards[shard].Epoch);
                    }
                }
            }
            if (member.Streaming)
            {
                if (revoked.Count > 0)
                {
                    var revocation = new Revocation();
                    revocation.Shards.Add(revoked.Order());
                    member.Control.Writer.TryWrite(new SubscribeResponse { Revoked = revocation });
                }
                if (!before.OrderBy(s => s.Key).SequenceEqual(member.Shards.OrderBy(s => s.Key)))
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
                member.Shards.Remove(shard);
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

    private void SendAssignment(ConnectedMember member)
    {
        var assignment = new Assignment();
        assignment.Shards.Add(member.Shards.Select(s => Lease(s.Key, s.Value)).OrderBy(l => l.Shard));
        member.Control.Writer.TryWrite(new SubscribeResponse { Assigned = assignment });
    }

    /// <summary>Balances Subscribe members every heartbeat interval; forgets members gone silent.</summary>
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
                foreach (var silent in _members.Values.Where(m => _timeProvider.GetElapsedTime(m.LastSeen) > m.SessionTimeout).ToList())
                {
                    // Its leases expire in the database; other members take the shards.
                    _members.Remove(silent.Id);
                    silent.Left = true;
                    silent.Wake();
                }
                due = _members.Values
                    .Where(m => m.Streaming && _timeProvider.GetElapsedTime(m.LastBalanced) >= ConsumeOptions.HeartbeatFor(m.SessionTimeout))
                    .ToList();
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
