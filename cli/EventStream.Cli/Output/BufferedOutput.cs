namespace EventStream.Cli.Output;

/// <summary>
/// Stdout for events: buffered for throughput, flushed every few hundred events; when following,
/// after every event, so a follower on a terminal or a pipe sees each one as it comes.
/// </summary>
internal sealed class BufferedOutput(TextWriter stdout, bool flushEachEvent)
{
    private const int FlushEvery = 512;
    private int _sinceFlush;

    public TextWriter Writer { get; } = stdout;

    public void EventWritten()
    {
        if (++_sinceFlush >= FlushEvery || flushEachEvent)
        {
            Flush();
        }
    }

    public void Flush()
    {
        Writer.Flush();
        _sinceFlush = 0;
    }
}
