using Microsoft.Extensions.Options;

namespace EventStream.Broker.Cluster;

/// <summary>Rejects cluster settings that cannot work, at host start.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    private const string Section = ClusterOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var failures = new List<string>();
        if (options.CoordinatorLeaseDuration < ClusterOptions.MinCoordinatorLeaseDuration)
        {
            failures.Add($"{Section}:CoordinatorLeaseDuration must be at least {ClusterOptions.MinCoordinatorLeaseDuration.TotalSeconds:0} s, not {options.CoordinatorLeaseDuration}.");
        }
        if (options.AdvertisedAddress is { Length: > 0 } address && !BrokerIdentity.IsValidAddress(address))
        {
            failures.Add($"{Section}:AdvertisedAddress must be an absolute http:// or https:// address such as http://broker-1:7400, not '{address}'.");
        }
        if (options.BrokerId is { } id && !BrokerIdentity.IsValidId(id))
        {
            failures.Add($"{Section}:BrokerId must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', not '{id}'.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
