using EventStream.Broker.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Tests.Security;

public sealed class AuditLogTests
{
    [Fact]
    public void A_flood_is_cut_at_the_limit_and_counted_in_one_line_the_next_minute()
    {
        var clock = new ManualClock();
        var logger = new CapturingLogger();
        var audit = new AuditLog(logger, Options.Create(new SecurityOptions { AuditLogsPerMinute = 3 }), clock);
        for (var i = 0; i < 1000; i++)
        {
            audit.Denied("p", "produce", "topic", "orders", "/eventstream.v1.Producer/Produce");
        }
        Assert.Equal(3, logger.Entries.Count(e => e.EventId.Id == 2002));

        clock.Advance(TimeSpan.FromMinutes(1));
        audit.Unauthenticated("/eventstream.v1.Admin/ListTopics", "10.0.0.1");
        var summary = Assert.Single(logger.Entries, e => e.EventId.Id == 2003);
        Assert.Contains("997", summary.Message);
        Assert.Single(logger.Entries, e => e.EventId.Id == 2001);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class CapturingLogger : ILogger<AuditLog>
    {
        private readonly RecordingLogger _inner = new();

        public IReadOnlyList<RecordingLogger.Entry> Entries => _inner.Entries;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
