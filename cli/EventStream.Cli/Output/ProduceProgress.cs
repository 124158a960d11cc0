using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace EventStream.Cli.Output;

/// <summary>
/// Counts what produce sent and, on a terminal, shows it as a progress bar on stderr with events/s
/// and bytes: when stderr is a terminal and either the input is a file (whose size gives the bar its
/// end) or stdout is a terminal too. In pipes and scripts it stays quiet.
/// </summary>
internal sealed class ProduceProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _events;
    private long _bytes;

    public long Events => Interlocked.Read(ref _events);

    public long Bytes => Interlocked.Read(ref _bytes);

    public static bool ShouldShow(bool fromFile) =>
        !Console.IsErrorRedirected && (fromFile || !Console.IsOutputRedirected);

    public void Count(long bytes)
    {
        Interlocked.Increment(ref _events);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Runs <paramref name="work"/> under a progress bar; <paramref name="inputBytes"/> (a file's size) is the bar's end, when known.</summary>
    public async Task RunAsync(IAnsiConsole stderr, long? inputBytes, Func<Task> work)
    {
        await stderr.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async context =>
            {
                var task = context.AddTask(Describe(), maxValue: inputBytes is > 0 ? inputBytes.Value : 1);
                task.IsIndeterminate = inputBytes is not > 0;
                var running = work();
                while (!running.IsCompleted)
                {
                    await Task.WhenAny(running, Task.Delay(200));
                    task.Description = Describe();
                    task.Value = inputBytes is > 0 ? Math.Min(Bytes, inputBytes.Value) : 0;
                }
                task.Description = Describe();
                task.Value = task.MaxValue;
                task.StopTask();
                await running;
            });
    }

    public string Describe()
    {
        var seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Events:N0} events, {FormatBytes(Bytes)}, {Events / seconds:N0} events/s");
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 30):0.0} GiB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.0} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
