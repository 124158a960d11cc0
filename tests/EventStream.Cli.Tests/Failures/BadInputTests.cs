namespace EventStream.Cli.Tests.Failures;

/// <summary>Bad input of every kind: one line on stderr, no stack trace, the documented non-zero exit code.</summary>
[Collection(CliCollection.Name)]
public sealed class BadInputTests(CliBrokerFixture fixture)
{
    public static TheoryData<string, int, string> Cases => new()
    {
        // arguments, exit code, part of the message
        { "consume no-such-topic-cli", 3, "does not exist" },
        { "produce no-such-topic-cli", 3, "does not exist" },
        { "topic describe no-such-topic-cli", 3, "does not exist" },
        { "topic create bad/name", 2, "topic" },
        { "topic create {topic}", 3, "already exists" },
        { "topic create x-{guid} --retention 10x", 2, "--retention" },
        { "consume {topic} --since 10x", 2, "--since" },
        { "consume {topic} --since -5m", 2, "--since" },
        { "consume {topic} --at yesterday-ish", 2, "--at" },
        { "consume {topic} --earliest --latest", 2, "choose one" },
        { "consume {topic} --count 0", 2, "--count" },
        { "consume {topic} --format nonsense", 2, "--format" },
        { "consume {topic} --shard 99", 2, "shard" },
        { "consume {topic} --no-such-option", 2, "--no-such-option" },
        { "topic alter no-such-topic-cli --retention 1d", 3, "does not exist" },
        { "topic alter {topic}", 2, "--retention or --description" },
        { "group describe no-such-group-cli", 3, "no-such-group-cli" },
        { "group reset no-such-group-cli", 2, "--earliest" },
        { "frobnicate", 2, "frobnicate" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_one_stderr_line_and_a_non_zero_exit(string arguments, int exitCode, string message)
    {
        var topic = await fixture.NewTopicAsync();
        var result = await fixture.RunAsync(arguments.Replace("{topic}", topic, StringComparison.Ordinal).Replace("{guid}", Guid.NewGuid().ToString("N"), StringComparison.Ordinal));

        AssertOneLine(result, exitCode, message);
    }

    [Fact]
    public async Task A_line_that_is_not_json_is_refused_naming_the_line()
    {
        var topic = await fixture.NewTopicAsync();
        var result = await fixture.RunAsync($"produce {topic} --format json", "{\"ok\": 1}\nnot json\n");
        AssertOneLine(result, 2, "line 2");
    }

    [Fact]
    public async Task An_unreachable_broker_is_one_line_and_exit_code_4()
    {
        var port = EventStream.Testing.BrokerProcess.FreePort();
        foreach (var command in new[] { "topic list", "consume t", "produce t", "broker health", "group list" })
        {
            var result = await CliProcess.RunAsync(["--broker", $"127.0.0.1:{port}", .. command.Split(' ')], stdin: "x\n");
            AssertOneLine(result, 4, "cannot reach the broker");
        }
    }

    [Fact]
    public async Task A_bad_broker_address_is_a_usage_error()
    {
        var result = await CliProcess.RunAsync(["--broker", "ftp://somewhere", "topic", "list"]);
        AssertOneLine(result, 2, "--broker");
    }

    private static void AssertOneLine(CliResult result, int exitCode, string message)
    {
        Assert.True(result.ExitCode == exitCode, $"exit code {result.ExitCode}, stderr: {result.Stderr}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("eventstream: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", result.Stderr.Replace(line, "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }
}
