using Microsoft.Extensions.Options;

namespace EventStream.Broker.Maintenance;

/// <summary>Rejects maintenance settings that cannot work, at host start.</summary>
internal sealed class MaintenanceOptionsValidator : IValidateOptions<MaintenanceOptions>
{
    private const string Section = MaintenanceOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, MaintenanceOptions options)
    {
        var failures = new List<string>();
        if (options.Interval <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:Interval must be positive, not {options.Interval}.");
        }

        if (options.RecheckInterval <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:RecheckInterval must be positive, not {options.RecheckInterval}.");
        }

        var longest = options.Interval > options.RecheckInterval ? options.Interval : options.RecheckInterval;
        if (options.PartitionsAhead <= 2 * longest)
        {
            failures.Add($"{Section}:PartitionsAhead ({options.PartitionsAhead}) must exceed twice Interval and RecheckInterval ({longest}), or inserts may find no partition between two rounds.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
