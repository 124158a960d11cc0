using EventStream.Broker.Consuming;
using EventStream.Broker.Tests.Maintenance;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>A group's member sessions without a database: attaching, detaching, leaving and expiry, against the shards they hold.</summary>
public sealed class GroupMembersTests
{
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(30);

    private readonly ManualTimeProvider _clock = new();
    private readonly ShardQueue[] _shards = [new(0), new(1), new(2)];

    [Fact]
    public void A_clean_leave_leaves_the_members_shards_without_owner_and_ends_its_session()
    {
        var members = new GroupMembers(_shards, _clock);
        var member = members.Attach("a", SessionTimeout, streaming: true);
        _shards[0].Assign("a", 4);
        _shards[2].Assign("b", 7);

        members.Leave("a");

        Assert.True(member.Left);
        Assert.Equal(0, members.Count);
        Assert.Null(_shards[0].Owner);
        Assert.Equal(4, _shards[0].Epoch);
        Assert.Equal("b", _shards[2].Owner);
        Assert.True(member.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).IsCompleted);
    }

    [Fact]
    public void A_new_session_of_a_member_gets_again_what_its_last_one_received_and_did_not_commit()
    {
        var members = new GroupMembers(_shards, _clock);
        var first = members.Attach("a", SessionTimeout, streaming: true);
        var session = first.Session;
        DeliverOne(_shards[1], "a");

        var again = members.Attach("a", SessionTimeout, streaming: true);

        Assert.Same(first, again);
        Assert.Equal(session + 1, again.Session);
        Assert.Equal(0, _shards[1].Delivered);
        Assert.Equal(1, _shards[1].Undelivered);
    }

    [Fact]
    public void An_older_session_ending_after_a_newer_one_began_changes_nothing()
    {
        var members = new GroupMembers(_shards, _clock);
        var member = members.Attach("a", SessionTimeout, streaming: true);
        var old = member.Session;
        members.Attach("a", SessionTimeout, streaming: true);
        DeliverOne(_shards[0], "a");

        members.Detach(member, old);
        Assert.True(member.Streaming);
        Assert.Equal(1, _shards[0].Delivered);

        members.Detach(member, member.Session);
        Assert.False(member.Streaming);
        Assert.Equal(0, _shards[0].Delivered);
    }

    [Fact]
    public void Members_silent_past_their_session_timeout_are_forgotten_and_keep_their_shards_until_their_leases_expire()
    {
        var members = new GroupMembers(_shards, _clock);
        var silent = members.Attach("a", SessionTimeout, streaming: true);
        var heard = members.Attach("b", SessionTimeout, streaming: true);
        _shards[0].Assign("a", 1);

        _clock.Advance(SessionTimeout / 2);
        members.Touch(heard);
        _clock.Advance(SessionTimeout / 2 + TimeSpan.FromSeconds(1));
        members.ExpireSilent();

        Assert.True(silent.Left);
        Assert.False(heard.Left);
        Assert.Equal(1, members.Count);
        Assert.Equal("a", _shards[0].Owner);
    }

    [Fact]
    public void A_full_group_still_takes_back_a_member_it_has()
    {
        var members = new GroupMembers(_shards, _clock);
        members.Attach("a", SessionTimeout, streaming: false);

        Assert.True(members.HasRoomFor("a", maxMembers: 1));
        Assert.False(members.HasRoomFor("b", maxMembers: 1));
    }

    private static void DeliverOne(ShardQueue queue, string owner)
    {
        queue.Assign(owner, 1);
        queue.TryAppend(new StreamedEvent(1, queue.Shard, 10, DateTime.UtcNow, null, null, [1], null, null, new EventPosition(10, 0, 10)));
        queue.MarkDelivered(1);
    }
}
