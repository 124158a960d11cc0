using System.Diagnostics;

namespace EventStream.Cli.Tests.Produce;

/// <summary>The produce progress bar: on a terminal (a pseudo-terminal from util-linux `script`), never in a pipe.</summary>
[Collection(CliCollection.Name)]
public sealed class ProgressTests(CliBrokerFixture fixture)
{
    [Fact]
    public async Task Progress_with_events_per_second_shows_on_a_terminal()
    {
        var topic = await fixture.NewTopicAsync();
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, Enumerable.Range(1, 20_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var command = $"dotnet {CliProcess.Dll} --broker {fixture.Broker.Address} produce {topic} --file {file}";
            var (exitCode, terminal) = await RunOnTerminalAsync(command);

            Assert.True(exitCode == 0, terminal);
            Assert.Contains("20,000 events", terminal, StringComparison.Ordinal);
            Assert.Contains("events/s", terminal, StringComparison.Ordinal);
            Assert.Contains("100%", terminal, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Equal(20_000, (await fixture.RunAsync($"consume {topic}")).StdoutLines.Length);
    }

    [Fact]
    public async Task Nothing_but_events_goes_to_a_pipe()
    {
        var topic = await fixture.NewTopicAsync();
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, Enumerable.Range(1, 5_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var produced = await fixture.RunAsync($"produce {topic} --file {file}");
            Assert.Equal(0, produced.ExitCode);
            Assert.Equal("", produced.Stdout);
            Assert.Equal("", produced.Stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Runs a shell command with stdin, stdout and stderr on a pseudo-terminal; returns what the terminal showed.</summary>
    private static async Task<(int ExitCode, string Terminal)> RunOnTerminalAsync(string command)
    {
        var info = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.Environment["TERM"] = "xterm-256color";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
