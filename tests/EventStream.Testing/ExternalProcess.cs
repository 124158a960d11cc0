using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace EventStream.Testing;

/// <summary>
/// A program a test runs beside it (an independent gRPC peer, the broker), with its output
/// lines available to wait on. Killed on dispose.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();

    private ExternalProcess(Process process) => _process = process;

    /// <summary>Everything the process printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts a program; throws with a clear message when it is not installed.</summary>
    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryPaths.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start '{fileName}' ({e.Message}). Run ./test.sh, which installs the test prerequisites.", e);
        }
        var external = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => external.OnLine(e.Data, isStdout: true);
        process.ErrorDataReceived += (_, e) => external.OnLine(e.Data, isStdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return external;
    }

    /// <summary>Waits for a stdout line that is a JSON object with the given property.</summary>
    public async Task<JsonElement> WaitForJsonAsync(string property, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (TryParseObject(line) is { } json && json.TryGetProperty(property, out _))
                {
                    return json;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        throw new TimeoutException($"No JSON line with '{property}' within {timeout}. Output so far:\n{Output}");
    }

    /// <summary>Waits for the process to exit and returns every JSON object it printed on stdout.</summary>
    public async Task<IReadOnlyList<JsonElement>> ReadAllJsonAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Process did not exit within {timeout}. Output so far:\n{Output}");
        }
        _process.WaitForExit(); // flushes the asynchronous readers
        var results = new List<JsonElement>();
        while (_lines.Reader.TryRead(out var line))
        {
            if (TryParseObject(line) is { } json)
            {
                results.Add(json);
            }
        }
        return results;
    }

    /// <summary>The exit code; the process must have exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Sends a signal to the process (not its children): TERM asks it to shut down cleanly, STOP pauses it, CONT resumes it.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("Could not run kill.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    /// <summary>Sends SIGKILL to the process (and its children).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line, bool isStdout)
    {
        if (line is null)
        {
            return;
        }
        lock (_outputLock)
        {
            _output.AppendLine(line);
        }
        if (isStdout)
        {
            _lines.Writer.TryWrite(line);
        }
    }

    private static JsonElement? TryParseObject(string line)
    {
        if (!line.TrimStart().StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
