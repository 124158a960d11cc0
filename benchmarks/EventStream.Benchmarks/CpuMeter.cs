using System.Globalization;

namespace EventStream.Benchmarks;

/// <summary>
/// CPU time of the processes in a run, read from /proc: this process (the client), the broker and
/// PostgreSQL (every postgres process on the machine, and through the postmaster's count of its
/// ended children, the backends that ended during the run). Says where the time per event goes;
/// empty off Linux.
/// </summary>
internal sealed class CpuMeter
{
    private readonly Dictionary<string, double> _start;

    private CpuMeter(Dictionary<string, double> start) => _start = start;

    public static CpuMeter Start() => new(Snapshot());

    /// <summary>CPU microseconds per event of each process kind since <see cref="Start"/>.</summary>
    public string PerEvent(int events)
    {
        var now = Snapshot();
        return string.Join("  ", now.Select(kind => string.Create(CultureInfo.InvariantCulture,
            $"{kind.Key} {(kind.Value - _start.GetValueOrDefault(kind.Key)) * 1e6 / events:F2}")));
    }

    /// <summary>CPU seconds per <paramref name="per"/> events of each process kind since <see cref="Start"/>.</summary>
    public string SecondsPer(int events, int per)
    {
        var now = Snapshot();
        return string.Join("  ", now.Select(kind => string.Create(CultureInfo.InvariantCulture,
            $"{kind.Key} {(kind.Value - _start.GetValueOrDefault(kind.Key)) * per / events:F2}")));
    }

    private static Dictionary<string, double> Snapshot()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }
        var seconds = new Dictionary<string, double> { ["client"] = 0, ["broker"] = 0, ["postgres"] = 0 };
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(directory);
            if (!char.IsAsciiDigit(pid[0]))
            {
                continue;
            }
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                var postmaster = commandLine.Contains("bin/postgres\0", StringComparison.Ordinal);
                var kind = pid == self ? "client"
                    : commandLine.Contains("EventStream.Broker", StringComparison.Ordinal) ? "broker"
                    : postmaster || commandLine.StartsWith("postgres", StringComparison.Ordinal) ? "postgres"
                    : null;
                if (kind is null)
                {
                    continue;
                }
                // Of the fields after the command name, utime and stime are the 12th and 13th, and the
                // ended children's cutime and cstime the 14th and 15th, in clock ticks (USER_HZ, 100 on Linux).
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                if (postmaster)
                {
                    // A backend that ends during the run would otherwise take its time with it.
                    ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                }
                seconds[kind] += ticks / 100.0;
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }
        return seconds;
    }
}
