using System.Diagnostics;
using System.Text.Json;
using EventStream.Testing;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// tests/EventStream.TestConsumer as a process: a member that prints what it receives and commits as
/// JSON lines, which this class parses as they come. Killed on dispose.
/// </summary>
internal sealed class ConsumerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly List<Received> _events = [];
    private readonly List<Committed> _commits = [];
    private readonly HashSet<int> _shards = [];
    private readonly List<string> _errors = [];

    private ConsumerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public IReadOnlyList<Received> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public int EventCount
    {
        get
        {
            lock (_lock)
            {
                return _events.Count;
            }
        }
    }

    public IReadOnlyList<Committed> Commits
    {
        get
        {
            lock (_lock)
            {
                return [.. _commits];
            }
        }
    }

    /// <summary>The shards the member says it holds: assigned and not revoked since.</summary>
    public int ShardCount
    {
        get
        {
            lock (_lock)
            {
                return _shards.Count;
            }
        }
    }

    public string Errors
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static ConsumerProcess Start(string name, string address, string group, string topic, int commitEvery)
    {
        var dll = Path.Combine(RepositoryPaths.Root, "tests", "EventStream.TestConsumer", "bin", Configuration, "net10.0", "EventStream.TestConsumer.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build tests/EventStream.Client.Tests, which builds it.");
        }
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { dll, "--address", address, "--group", group, "--topic", topic, "--commit-every", commitEvery.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the test consumer.");
        var consumer = new ConsumerProcess(process, name);
        process.OutputDataReceived += (_, e) => consumer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => consumer.OnError(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return consumer;
    }

    /// <summary>SIGKILL: the member vanishes without leaving.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line) || !line.StartsWith('{'))
        {
            return;
        }
        using var document = JsonDocument.Parse(line);
        var json = document.RootElement;
        lock (_lock)
        {
            if (json.TryGetProperty("id", out var id))
            {
                _events.Add(new Received(id.GetInt64(), json.GetProperty("key").GetString()!, json.GetProperty("seq").GetInt64(),
                    json.GetProperty("shard").GetInt32(), new EventPosition(0, json.GetProperty("lsn").GetUInt64(), json.GetProperty("ord").GetUInt32(), id.GetInt64())));
            }
            else if (json.TryGetProperty("committed", out var committed))
            {
                foreach (var c in committed.EnumerateArray())
                {
                    _commits.Add(new Committed(c.GetProperty("shard").GetInt32(),
                        new EventPosition(0, c.GetProperty("lsn").GetUInt64(), c.GetProperty("ord").GetUInt32(), c.GetProperty("id").GetInt64())));
                }
            }
            else if (json.TryGetProperty("assigned", out var assigned))
            {
                _shards.UnionWith(assigned.EnumerateArray().Select(s => s.GetInt32()));
            }
            else if (json.TryGetProperty("revoked", out var revoked))
            {
                _shards.ExceptWith(revoked.EnumerateArray().Select(s => s.GetInt32()));
            }
        }
    }

    private void OnError(string? line)
    {
        if (line is not null)
        {
            lock (_lock)
            {
                _errors.Add(line);
            }
        }
    }

    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>An event as the process printed it.</summary>
    public sealed record Received(long EventId, string Key, long Seq, int Shard, EventPosition Position);

    /// <summary>A shard's position as committed by the process.</summary>
    public sealed record Committed(int Shard, EventPosition Position);
}
