using EventStream.Broker.Maintenance;
using EventStream.Broker.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventStream.Broker.Tests.Maintenance;

/// <summary>A host with the broker's database and maintenance services, as Program.cs wires them.</summary>
internal static class MaintenanceHost
{
    public static IHost Build(Dictionary<string, string?> settings, RecordingLogger log)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        builder.Logging.AddProvider(new RecordingLoggerProvider(log));
        builder.Services.AddEventStreamDatabase(builder.Configuration);
        builder.Services.AddEventStreamMaintenance(builder.Configuration);
        return builder.Build();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="timeout"/>.</summary>
    /// <param name="condition">What to wait for.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="what">The condition in words, for the failure message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="diagnose">What to add to the failure message.</param>
    public static async Task WaitUntilAsync(
        Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, Func<Task<string>>? diagnose = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting until {what}. {(diagnose is null ? "" : await diagnose())}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }
}
