using System.Text;
using System.Text.Json;
using EventStream.Protocol.Sharding;

namespace EventStream.Cli.Tests.Produce;

/// <summary>produce from stdin and files, read back with consume: order, keys, JSON, headers.</summary>
[Collection(CliCollection.Name)]
public sealed class ProduceConsumeTests(CliBrokerFixture fixture)
{
    [Fact]
    public async Task Lines_produced_from_stdin_come_back_in_order()
    {
        var topic = await fixture.NewTopicAsync();
        var lines = Enumerable.Range(1, 100_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        var produced = await fixture.RunAsync($"produce {topic}", string.Join('\n', lines) + "\n");
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        Assert.Equal("", produced.Stdout);

        var consumed = await fixture.RunAsync($"consume {topic} --earliest --count 100000");
        Assert.True(consumed.ExitCode == 0, consumed.Stderr);
        Assert.Equal(lines, consumed.StdoutLines);
    }

    [Fact]
    public async Task Key_separator_routes_keys_to_shards_as_the_SDK_does_and_keeps_order_per_key()
    {
        var topic = await fixture.NewTopicAsync();
        var input = new StringBuilder();
        for (var i = 0; i < 2_000; i++)
        {
            input.Append("customer-").Append(i % 13).Append(':').Append(i).Append('\n');
        }
        var produced = await fixture.RunAsync($"produce {topic} --key-separator :", input.ToString());
        Assert.True(produced.ExitCode == 0, produced.Stderr);

        var consumed = await fixture.RunAsync($"consume {topic} --earliest --format json");
        Assert.True(consumed.ExitCode == 0, consumed.Stderr);
        var events = consumed.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(2_000, events.Count);
        foreach (var byKey in events.GroupBy(e => e.GetProperty("key").GetString()!))
        {
            Assert.All(byKey, e => Assert.Equal(ShardHash.ShardOf(byKey.Key, 32), e.GetProperty("shard").GetInt32()));
            var values = byKey.Select(e => int.Parse(e.GetProperty("payload").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(values.Order(), values);
        }
    }

    [Fact]
    public async Task Json_payloads_and_headers_from_a_file_show_in_json_output()
    {
        var topic = await fixture.NewTopicAsync();
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "o-1\t{\"total\": 12.5}\no-2\t{\"total\": 3}\n");
            var produced = await fixture.RunAsync($"produce {topic} --file {file} --key-separator \t --format json --header source=cli --header trace=abc");
            Assert.True(produced.ExitCode == 0, produced.Stderr);
        }
        finally
        {
            File.Delete(file);
        }

        var consumed = await fixture.RunAsync($"consume {topic} --format json --count 2");
        Assert.True(consumed.ExitCode == 0, consumed.Stderr);
        var first = JsonDocument.Parse(consumed.StdoutLines[0]).RootElement;
        Assert.Equal(topic, first.GetProperty("topic").GetString());
        Assert.Equal("o-1", first.GetProperty("key").GetString());
        Assert.Equal(12.5, first.GetProperty("payload").GetProperty("total").GetDouble());
        Assert.Equal("cli", first.GetProperty("headers").GetProperty("source").GetString());
        Assert.Equal("application/json", first.GetProperty("content_type").GetString());
        Assert.True(first.GetProperty("event_id").GetInt64() > 0);
        Assert.True(DateTimeOffset.Parse(first.GetProperty("ingest_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task A_kcat_like_format_string_prints_the_fields_asked_for()
    {
        var topic = await fixture.NewTopicAsync();
        Assert.Equal(0, (await fixture.RunAsync($"produce {topic} -K =", "k1=hello\n")).ExitCode);

        var consumed = await fixture.RunAsync($"consume {topic} --format %t|%p|%k|%s|%S\\n");
        Assert.True(consumed.ExitCode == 0, consumed.Stderr);
        Assert.Equal($"{topic}|{ShardHash.ShardOf("k1", 32)}|k1|hello|5", Assert.Single(consumed.StdoutLines));
    }

    [Fact]
    public async Task Rate_limits_how_fast_events_are_sent()
    {
        var topic = await fixture.NewTopicAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var produced = await fixture.RunAsync($"produce {topic} --rate 20", string.Join('\n', Enumerable.Range(1, 30)) + "\n");
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        // 30 events at 20 a second take at least 1.45 s whatever the machine's speed.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.45), $"took {clock.Elapsed}");
        Assert.Equal(30, (await fixture.RunAsync($"consume {topic}")).StdoutLines.Length);
    }
}
