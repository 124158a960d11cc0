using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Tests;

/// <summary>Keeps what is logged, so tests can assert on event ids.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public bool Has(int eventId) => _entries.Any(e => e.EventId.Id == eventId);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new Entry(logLevel, eventId, formatter(state, exception), exception));

    public sealed record Entry(LogLevel Level, EventId EventId, string Message, Exception? Exception = null);
}
