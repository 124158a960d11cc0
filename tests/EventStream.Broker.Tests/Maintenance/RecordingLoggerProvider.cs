using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>Sends every category of a host's logging to one <see cref="RecordingLogger"/>.</summary>
internal sealed class RecordingLoggerProvider(RecordingLogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
