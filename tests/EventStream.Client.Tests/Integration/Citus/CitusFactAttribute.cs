using EventStream.Testing;

namespace EventStream.Client.Tests.Integration.Citus;

/// <summary>A test that needs Citus: reported as skipped where the extension is not installed.</summary>
public sealed class CitusFactAttribute : FactAttribute
{
    public CitusFactAttribute()
    {
        Skip = CitusInstallation.SkipReason;
    }
}
