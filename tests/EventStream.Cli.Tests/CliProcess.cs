using System.Diagnostics;
using System.Text;
using EventStream.Testing;

namespace EventStream.Cli.Tests;

/// <summary>What one run of the command line printed, and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// The built <c>eventstream</c> tool run as its own process (<c>dotnet EventStream.Cli.dll ...</c>),
/// with its stdout and stderr kept apart and stdin fed from a string or left empty.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();

    private CliProcess(Process process) => _process = process;

    /// <summary>The tool's assembly, in the tests' build configuration.</summary>
    public static string Dll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = RepositoryPaths.Combine("cli", "EventStream.Cli", "bin", configuration, "net10.0", "EventStream.Cli.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution in {configuration} first.");
        }
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public static CliProcess Start(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null) =>
        Start("dotnet", [Dll, .. arguments], environment);

    /// <summary>Runs another program (a shell pipeline around the tool) to the end, with empty input.</summary>
    public static async Task<CliResult> RunProgramAsync(string program, IEnumerable<string> arguments)
    {
        await using var run = Start(program, arguments, null);
        run._process.StandardInput.Close();
        return await run.WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static CliProcess Start(string program, IEnumerable<string> arguments, IDictionary<string, string?>? environment)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("EVENTSTREAM_BROKER");
        info.Environment.Remove("EVENTSTREAM_PROFILE");
        info.Environment.Remove("EVENTSTREAM_CONFIG");
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => cli.Append(cli._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Append(cli._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs to the end with <paramref name="stdin"/> as its input (empty when null).</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> arguments, string? stdin = null,
        IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        await using var cli = Start(arguments, environment);
        if (stdin is not null)
        {
            await cli._process.StandardInput.WriteAsync(stdin);
        }
        cli._process.StandardInput.Close();
        return await cli.WaitAsync(timeout ?? TimeSpan.FromSeconds(120));
    }

    /// <summary>Sends a signal, as a user's Ctrl-C (INT) or a service manager (TERM) would.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"eventstream did not exit within {timeout}; stdout:\n{Tail(Stdout)}\nstderr:\n{_stderr}");
        }
        // The exit event can come before the last output lines were read.
        _process.WaitForExit();
        lock (_lock)
        {
            return new CliResult(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            text.Append(line).Append('\n');
        }
    }

    private static string Tail(string text) => text.Length > 2000 ? text[^2000..] : text;
}
