using EventStream.Broker.Maintenance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventStream.Broker.Tests.Maintenance;

public sealed class MaintenanceOptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(new MaintenanceOptionsValidator().Validate(null, new MaintenanceOptions()).Succeeded);
    }

    [Theory]
    [InlineData("00:00:00", "00:05:00", "1.00:00:00", "Interval")]
    [InlineData("00:00:30", "-00:00:01", "1.00:00:00", "RecheckInterval")]
    [InlineData("00:00:30", "12:00:00", "1.00:00:00", "PartitionsAhead")]
    public void Unworkable_settings_are_rejected_naming_the_setting(string interval, string recheck, string ahead, string named)
    {
        var options = new MaintenanceOptions
        {
            Interval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture),
            RecheckInterval = TimeSpan.Parse(recheck, System.Globalization.CultureInfo.InvariantCulture),
            PartitionsAhead = TimeSpan.Parse(ahead, System.Globalization.CultureInfo.InvariantCulture),
        };

        var result = new MaintenanceOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"EventStream:Maintenance:{named}", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_settings_stop_the_host_at_start()
    {
        using var host = MaintenanceHost.Build(new() { ["EventStream:Maintenance:Interval"] = "00:00:00" }, new RecordingLogger());

        await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestTimeout.Token()));
    }
}
