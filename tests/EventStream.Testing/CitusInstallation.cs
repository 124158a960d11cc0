namespace EventStream.Testing;

/// <summary>Whether the citus extension is installed for the machine's PostgreSQL, for tests that need it.</summary>
public static class CitusInstallation
{
    private static readonly Lazy<bool> Installed = new(() =>
        Directory.Exists("/usr/lib/postgresql")
        && Directory.EnumerateDirectories("/usr/lib/postgresql").Any(version => File.Exists(Path.Combine(version, "lib", "citus.so"))));

    public static bool IsInstalled => Installed.Value;

    /// <summary>The reason Citus tests are skipped, or null when they can run.</summary>
    public static string? SkipReason => IsInstalled ? null : "The citus extension is not installed for PostgreSQL on this machine.";
}
