namespace EventStream.Client.Tests.Consumer;

public class EventStreamConsumerOptionsTests
{
    private static EventStreamConsumerOptions Valid() => new() { Group = "billing", Topics = { "orders" } };

    [Fact]
    public void Defaults_with_a_group_and_a_topic_are_valid()
    {
        var options = Valid();
        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(30), options.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.AutoCommitInterval);
        Assert.Equal(10_000, options.MaxBufferedEvents);
        Assert.Equal(StartPosition.Latest, options.StartPosition);
        Assert.False(string.IsNullOrEmpty(options.MemberId));
        Assert.NotEqual(options.MemberId, Valid().MemberId);
    }

    [Fact]
    public void Session_timeout_shorter_than_three_heartbeats_is_rejected()
    {
        var options = Valid();
        options.HeartbeatInterval = TimeSpan.FromSeconds(2);
        options.SessionTimeout = TimeSpan.FromSeconds(5);

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(EventStreamConsumerOptions.SessionTimeout), e.ParamName);
        Assert.Contains("3 × HeartbeatInterval", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_timeout_of_exactly_three_heartbeats_is_accepted()
    {
        var options = Valid();
        options.HeartbeatInterval = TimeSpan.FromSeconds(1);
        options.SessionTimeout = TimeSpan.FromSeconds(3);
        options.Validate();
    }

    public static TheoryData<string, Action<EventStreamConsumerOptions>> InvalidSettings => new()
    {
        { "Address", o => o.Address = "127.0.0.1:7400" },
        { "Address", o => o.Address = "ftp://broker" },
        { "Group", o => o.Group = "" },
        { "Group", o => o.Group = "bad name" },
        { "Group", o => o.Group = new string('g', 250) },
        { "Topics", o => o.Topics.Clear() },
        { "Topics", o => o.Topics.Add("bad topic") },
        { "Topics", o => o.Topics.Add("") },
        { "Topics", o => o.Topics.Add("a*b") },
        { "MemberId", o => o.MemberId = " " },
        { "MemberId", o => o.MemberId = new string('m', 257) },
        { "StartPosition", o => o.StartPosition = null! },
        { "HeartbeatInterval", o => o.HeartbeatInterval = TimeSpan.Zero },
        { "AutoCommitInterval", o => o.AutoCommitInterval = TimeSpan.Zero },
        { "MaxBufferedEvents", o => o.MaxBufferedEvents = 0 },
        { "ReconnectBackoff", o => o.ReconnectBackoff = TimeSpan.Zero },
        { "MaxReconnectBackoff", o => o.MaxReconnectBackoff = TimeSpan.FromMilliseconds(1) },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Each_setting_out_of_range_is_named_in_the_exception(string setting, Action<EventStreamConsumerOptions> breakIt)
    {
        var options = Valid();
        breakIt(options);

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(setting, e.ParamName);
        Assert.StartsWith($"EventStreamConsumerOptions.{setting} ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prefix_patterns_and_manual_commits_are_valid()
    {
        var options = Valid();
        options.Topics.Add("clicks.*");
        options.AutoCommitInterval = null;
        options.Validate();
    }

    [Fact]
    public async Task The_consumer_validates_and_copies_its_options()
    {
        var options = Valid();
        await using var consumer = new EventStreamConsumer(options);
        options.Group = "changed";
        options.Topics.Add("other");

        Assert.Equal("billing", consumer.Group);
        Assert.Equal(options.MemberId, consumer.MemberId);
        Assert.Throws<ArgumentException>(() => new EventStreamConsumer(new EventStreamConsumerOptions()));
    }
}
