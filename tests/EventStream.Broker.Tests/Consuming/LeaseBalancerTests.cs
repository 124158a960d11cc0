using EventStream.Broker.Consuming;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>
/// The balancer without a database: a model of the leases table applies its claims (compare-and-set on
/// the epoch, as sql/011 does) and owners hand over what was asked for at their next round.
/// </summary>
public sealed class LeaseBalancerTests
{
    private const int Shards = 32;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(64)]
    public void Members_joining_one_after_another_reach_fair_shares_within_bounded_rounds(int members)
    {
        var group = new Group();
        for (var m = 0; m < members; m++)
        {
            group.Join("m" + m);
            group.Rounds(1);
        }

        // A member below its share gains at most one shard per round; one round per shard bounds it.
        var rounds = group.RoundsUntilBalanced(Shards);

        Assert.True(rounds >= 0, $"{members} members were not balanced: {group.Describe()}");
        var min = Shards / members;
        var max = min + (Shards % members > 0 ? 1 : 0);
        Assert.All(group.Live, m => Assert.InRange(group.Held(m), min, max));
        Assert.Equal(Shards, group.Live.Sum(group.Held));
    }

    [Fact]
    public void A_member_that_stops_heartbeating_loses_its_shards_once_expired()
    {
        var group = new Group();
        group.Join("a");
        group.Join("b");
        group.RoundsUntilBalanced(40);
        Assert.Equal(16, group.Held("b"));

        group.Expire("b");
        group.Rounds(1);

        Assert.Equal(Shards, group.Held("a"));
    }

    [Fact]
    public void A_joining_member_asks_for_at_most_one_shard_per_round()
    {
        var group = new Group();
        group.Join("a");
        group.Rounds(1);
        group.Join("b");

        var claims = LeaseBalancer.Plan("b", group.Leases, liveMembers: 2);

        var claim = Assert.Single(claims);
        Assert.True(claim.Ask);
        // And not again while that request is pending.
        group.Apply("b", claims);
        Assert.Empty(LeaseBalancer.Plan("b", group.Leases, liveMembers: 2));
    }

    [Fact]
    public void Free_shards_are_taken_at_once_up_to_the_maximum()
    {
        var group = new Group();
        group.Join("a");
        group.Join("b");

        var claims = LeaseBalancer.Plan("a", group.Leases, liveMembers: 2);

        Assert.Equal(16, claims.Count);
        Assert.All(claims, c => Assert.False(c.Ask));
    }

    [Fact]
    public void No_shard_moves_more_than_once_on_the_way_to_balance_and_none_after()
    {
        var group = new Group();
        group.Join("a");
        group.Rounds(1);
        group.Join("b");
        group.Join("c");
        var moves = group.CountMoves(() => group.RoundsUntilBalanced(40));

        Assert.All(moves, m => Assert.InRange(m.Value, 0, 1));
        Assert.All(group.CountMoves(() => group.Rounds(20)), m => Assert.Equal(0, m.Value));
    }

    [Fact]
    public void A_claim_made_on_a_stale_epoch_takes_nothing()
    {
        var group = new Group();
        group.Join("a");
        group.Join("b");
        var planA = LeaseBalancer.Plan("a", group.Leases, liveMembers: 2);
        var planB = LeaseBalancer.Plan("b", group.Leases, liveMembers: 2);

        group.Apply("a", planA);
        group.Apply("b", planB);

        // Both planned the same free shards at the same epochs: the first to apply got them, the
        // second none (its next round takes the other half).
        Assert.Equal(16, group.Held("a"));
        Assert.Equal(0, group.Held("b"));
        group.Apply("b", LeaseBalancer.Plan("b", group.Leases, liveMembers: 2));
        Assert.Equal(16, group.Held("b"));
    }

    /// <summary>A model of one group's leases and members.</summary>
    private sealed class Group
    {
        private readonly List<string> _members = [];
        private readonly HashSet<string> _expired = [];
        private ShardLeaseState[] _leases = Enumerable.Range(0, Shards).Select(s => new ShardLeaseState(s, null, null, 0, false)).ToArray();
        private int[] _moves = new int[Shards];

        public IReadOnlyList<ShardLeaseState> Leases => _leases.Select(l => l with { OwnerExpired = l.Owner is { } o && _expired.Contains(o) }).ToList();

        public IEnumerable<string> Live => _members.Where(m => !_expired.Contains(m));

        public void Join(string member) => _members.Add(member);

        public void Expire(string member) => _expired.Add(member);

        public int Held(string member) => _leases.Count(l => l.Owner == member);

        /// <summary>Every live member balances once per round, in join order, then hands over what was asked of it.</summary>
        public void Rounds(int count)
        {
            for (var round = 0; round < count; round++)
            {
                foreach (var member in Live.ToList())
                {
                    Apply(member, LeaseBalancer.Plan(member, Leases, Live.Count()));
                    HandOver(member);
                }
            }
        }

        /// <summary>Rounds until nothing changes in a round; the rounds it took, or -1 past <paramref name="limit"/>.</summary>
        public int RoundsUntilBalanced(int limit)
        {
            for (var round = 1; round <= limit; round++)
            {
                var before = Snapshot();
                Rounds(1);
                if (before == Snapshot())
                {
                    return round;
                }
            }
            return -1;
        }

        /// <summary>How often each shard went from one member to another while <paramref name="act"/> ran.</summary>
        public Dictionary<int, int> CountMoves(Action act)
        {
            _moves = new int[Shards];
            act();
            return Enumerable.Range(0, Shards).ToDictionary(s => s, s => _moves[s]);
        }

        public void Apply(string member, IEnumerable<LeaseClaim> claims)
        {
            foreach (var claim in claims)
            {
                var lease = Leases[claim.Shard];
                if (lease.Epoch != claim.Epoch)
                {
                    continue;
                }
                if (!claim.Ask && lease.IsFree)
                {
                    Move(claim.Shard, member);
                }
                else if (claim.Ask && !lease.IsFree && lease.Owner != member && lease.NewOwner is null)
                {
                    _leases[claim.Shard] = _leases[claim.Shard] with { NewOwner = member };
                }
            }
        }

        private void HandOver(string owner)
        {
            for (var s = 0; s < Shards; s++)
            {
                if (_leases[s] is { NewOwner: { } next } lease && lease.Owner == owner)
                {
                    Move(s, next);
                }
            }
        }

        private void Move(int shard, string owner)
        {
            var lease = _leases[shard];
            if (lease.Owner is not null)
            {
                _moves[shard]++;
            }
            _leases[shard] = new ShardLeaseState(shard, owner, null, lease.Epoch + 1, false);
        }

        private string Snapshot() => string.Join(",", _leases.Select(l => $"{l.Owner}/{l.NewOwner}"));

        public string Describe() => string.Join(" ", Live.Select(m => $"{m}={Held(m)}"));
    }
}
