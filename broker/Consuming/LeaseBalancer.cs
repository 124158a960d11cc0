namespace EventStream.Broker.Consuming;

/// <summary>
/// Decides one balancing round of a member, as the Event Hubs processor's load balancer does: with
/// min = shards / live members and max = min + 1 when they do not divide evenly, claim shards
/// nobody holds (unclaimed, or their owner expired) while below max; still below min, ask the
/// member holding the most (above min) for one shard, or, at min, one holding more than max. A plain function of the leases: the
/// database applies its claims by compare-and-set on each lease's epoch, so rounds of different
/// members, on different brokers, never both win a shard.
/// </summary>
internal static class LeaseBalancer
{
    /// <summary>The claims <paramref name="member"/> makes this round.</summary>
    /// <param name="member">The member balancing.</param>
    /// <param name="leases">Every shard's lease, as the database sees it now.</param>
    /// <param name="liveMembers">Members whose session has not expired, this one included.</param>
    public static List<LeaseClaim> Plan(string member, IReadOnlyList<ShardLeaseState> leases, int liveMembers)
    {
        var members = Math.Max(liveMembers, 1);
        var min = leases.Count / members;
        var max = min + (leases.Count % members > 0 ? 1 : 0);
        var mine = leases.Count(l => l.Owner == member);
        var claims = new List<LeaseClaim>();
        foreach (var lease in leases.Where(l => l.Owner != member && l.IsFree).OrderBy(l => l.Shard))
        {
            if (mine >= max)
            {
                break;
            }
            claims.Add(new LeaseClaim(lease.Shard, lease.Epoch, Ask: false));
            mine++;
        }
        // At most one request a round, and none while one is pending: a shard moves once its owner has
        // committed what it received. Below min, ask a member holding more than min; at min, only one
        // holding more than max (shares are then uneven beyond the remainder), so shards do not ping-pong.
        var above = mine < min ? min : mine < max ? max : int.MaxValue;
        if (above < int.MaxValue && !leases.Any(l => l.NewOwner == member))
        {
            var richest = leases
                .Where(l => !l.IsFree && l.Owner != member)
                .GroupBy(l => l.Owner!)
                .Select(g => (Owner: g.Key, Held: g.Count()))
                .Where(o => o.Held > above)
                .OrderByDescending(o => o.Held)
                .ThenBy(o => o.Owner, StringComparer.Ordinal)
                .FirstOrDefault();
            if (richest.Owner is not null && leases
                    .Where(l => l.Owner == richest.Owner && !l.IsFree && l.NewOwner is null)
                    .OrderByDescending(l => l.Shard)
                    .FirstOrDefault() is { } asked)
            {
                claims.Add(new LeaseClaim(asked.Shard, asked.Epoch, Ask: true));
            }
        }
        return claims;
    }
}

/// <summary>A shard's lease as the balancer sees it.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Owner">The member holding it, or null.</param>
/// <param name="NewOwner">The member that asked for it, or null.</param>
/// <param name="Epoch">Grows with every change of owner.</param>
/// <param name="OwnerExpired">The owner missed its heartbeats past its session timeout.</param>
internal sealed record ShardLeaseState(int Shard, string? Owner, string? NewOwner, long Epoch, bool OwnerExpired)
{
    /// <summary>Nobody holds the shard: unclaimed, or its owner expired.</summary>
    public bool IsFree => Owner is null || OwnerExpired;
}

/// <summary>A claim of a round: take a free shard, or ask its owner to hand it over; valid only at that epoch.</summary>
internal readonly record struct LeaseClaim(int Shard, long Epoch, bool Ask);
