using System.Globalization;
using System.Text.Json;
using EventStream.Testing;

namespace EventStream.Cli.Tests.Consume;

/// <summary>consume: start points, follow and Ctrl-C, groups that commit, and reads that leave nothing in PostgreSQL.</summary>
[Collection(CliCollection.Name)]
public sealed class ConsumeTests(CliBrokerFixture fixture)
{
    [Fact]
    public async Task A_group_commits_so_a_second_run_continues_where_the_first_stopped()
    {
        var topic = await fixture.NewTopicAsync();
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        var lines = string.Concat(Enumerable.Range(1, 30).Select(i => $"k:{i}\n"));
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic} -K :", lines)).ExitCode);

        var first = await fixture.RunAsync($"consume {topic} --group {group} --count 10");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(Enumerable.Range(1, 10).Select(Text), first.StdoutLines);

        var second = await fixture.RunAsync($"consume {topic} --group {group} --count 10");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal(Enumerable.Range(11, 10).Select(Text), second.StdoutLines);

        var described = await fixture.RunAsync($"group describe {group}");
        Assert.True(described.ExitCode == 0, described.Stderr);
        Assert.Contains("lag events", described.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Since_and_at_start_at_a_time()
    {
        var topic = await fixture.NewTopicAsync();
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "old\n")).ExitCode);
        var old = JsonDocument.Parse((await fixture.RunAsync($"consume {topic} --format json")).StdoutLines.Single()).RootElement;
        var oldTime = DateTimeOffset.Parse(old.GetProperty("ingest_time").GetString()!, CultureInfo.InvariantCulture);
        // Observable, not slept: the next event is stored after the first one's ingest time.
        await Wait.UntilAsync(() => DateTimeOffset.UtcNow > oldTime.AddMilliseconds(5), "the clock passed the first event");
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "new\n")).ExitCode);

        var after = oldTime.AddMilliseconds(1).ToUnixTimeMilliseconds();
        Assert.Equal(["new"], (await fixture.RunAsync($"consume {topic} --at {after}")).StdoutLines);
        Assert.Equal(["old", "new"], (await fixture.RunAsync($"consume {topic} --since 10m")).StdoutLines);
        Assert.Equal(["old", "new"], (await fixture.RunAsync($"consume {topic} --at {oldTime.UtcDateTime:O}")).StdoutLines);
        Assert.Empty((await fixture.RunAsync($"consume {topic} --latest")).StdoutLines);
    }

    [Fact]
    public async Task Follow_prints_new_events_until_sigint_which_exits_cleanly()
    {
        var topic = await fixture.NewTopicAsync();
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "before\n")).ExitCode);
        await using var follower = fixture.Start($"consume {topic} --earliest --follow");
        await Wait.UntilAsync(() => follower.Stdout.Contains("before", StringComparison.Ordinal), "the stored event was printed");

        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "during-1\nduring-2\n")).ExitCode);
        await Wait.UntilAsync(() => follower.Stdout.Contains("during-2", StringComparison.Ordinal), "the new events were printed");

        follower.Signal("INT");
        var result = await follower.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["before", "during-1", "during-2"], result.StdoutLines);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Reading_without_a_group_creates_no_replication_slot_and_no_group()
    {
        var topic = await fixture.NewTopicAsync();
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "a\nb\nc\n")).ExitCode);
        var slots = await fixture.CountAsync("SELECT count(*) FROM pg_replication_slots");
        var groups = await fixture.CountAsync("SELECT count(*) FROM eventstream.consumer_groups");

        Assert.Equal(["a", "b", "c"], (await fixture.RunAsync($"consume {topic} --earliest")).StdoutLines);
        await using (var follower = fixture.Start($"consume {topic} --earliest --follow"))
        {
            await Wait.UntilAsync(() => follower.Stdout.Contains('c', StringComparison.Ordinal), "the follower printed the events");
            Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", "d\n")).ExitCode);
            await Wait.UntilAsync(() => follower.Stdout.Contains('d', StringComparison.Ordinal), "the follower printed the new event");
            // While following, too.
            Assert.Equal(slots, await fixture.CountAsync("SELECT count(*) FROM pg_replication_slots"));
            Assert.Equal(groups, await fixture.CountAsync("SELECT count(*) FROM eventstream.consumer_groups"));
            follower.Signal("INT");
            Assert.Equal(0, (await follower.WaitAsync(TimeSpan.FromSeconds(20))).ExitCode);
        }
        Assert.Equal(slots, await fixture.CountAsync("SELECT count(*) FROM pg_replication_slots"));
        Assert.Equal(groups, await fixture.CountAsync("SELECT count(*) FROM eventstream.consumer_groups"));
        Assert.Equal(0, await fixture.CountAsync($"SELECT count(*) FROM eventstream.consumer_groups g WHERE '{topic}' = ANY(g.topics)"));
    }

    [Fact]
    public async Task Shards_limit_a_read_to_their_events()
    {
        var topic = await fixture.NewTopicAsync();
        var lines = string.Concat(Enumerable.Range(0, 200).Select(i => $"key-{i % 20}:{i}\n"));
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic} -K :", lines)).ExitCode);
        var shard = EventStream.Protocol.Sharding.ShardHash.ShardOf("key-3", 32);

        var read = await fixture.RunAsync($"consume {topic} --shard {shard} --format %p:%k\\n");
        Assert.True(read.ExitCode == 0, read.Stderr);
        Assert.Contains($"{shard}:key-3", read.StdoutLines);
        Assert.All(read.StdoutLines, line => Assert.StartsWith($"{shard}:", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pipe_closed_by_its_reader_ends_consume_quietly()
    {
        var topic = await fixture.NewTopicAsync();
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic}", string.Join('\n', Enumerable.Range(1, 50_000)) + "\n")).ExitCode);

        // pipefail: the pipeline's status is the command line's, which head leaves writing into a closed pipe.
        var script = $"set -o pipefail; dotnet {CliProcess.Dll} --broker {fixture.Broker.Address} consume {topic} | head -n 2";
        var result = await CliProcess.RunProgramAsync("bash", ["-c", script]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(["1", "2"], result.StdoutLines);
        Assert.Equal("", result.Stderr);
    }

    private static string Text(int i) => i.ToString(CultureInfo.InvariantCulture);
}
