using System.Diagnostics;

namespace EventStream.Client.Tests.Integration.Citus;

/// <summary>A fact that runs only where the citus extension is installed for PostgreSQL 15; skipped elsewhere.</summary>
public sealed class CitusFactAttribute : FactAttribute
{
    public CitusFactAttribute()
    {
        if (!IsInstalled)
        {
            Skip = "The citus extension is not installed (no citus.so for PostgreSQL).";
        }
    }

    public static bool IsInstalled { get; } = Detect();

    private static bool Detect()
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }
        if (File.Exists("/usr/lib/postgresql/15/lib/citus.so"))
        {
            return true;
        }
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--pkglibdir") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return false;
            }
            var directory = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && File.Exists(Path.Combine(directory, "citus.so"));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
