using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace EventStream.Client.Tests.Integration;

/// <summary>Logs to the test's output, so a failing test shows what the consumer went through.</summary>
internal sealed class TestOutputLogging(ITestOutputHelper output) : ILoggerProvider
{
    public static ILoggerFactory Factory(ITestOutputHelper output, LogLevel minimum = LogLevel.Debug) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(minimum).AddProvider(new TestOutputLogging(output)));

    public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                var error = exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})";
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category[(category.LastIndexOf('.') + 1)..]}: {formatter(state, exception)}{error}");
            }
            catch (InvalidOperationException)
            {
                // The test is over.
            }
        }
    }
}
