using System.Runtime.InteropServices;

namespace EventStream.Broker.Embedded;

/// <summary>Who the broker runs as, and running commands as another account.</summary>
internal static class UnixUser
{
    /// <summary>True when the effective user is root (initdb and postgres refuse to run then).</summary>
    public static bool IsRoot { get; } = !OperatingSystem.IsWindows() && geteuid() == 0;

    /// <summary>
    /// The command prefix that runs a program as <paramref name="user"/>: runuser where present
    /// (util-linux, Debian), else setpriv. Null when neither exists.
    /// </summary>
    public static IReadOnlyList<string>? SwitchUserPrefix(string user)
    {
        if (Executables.Find("runuser", "/usr/sbin", "/sbin") is { } runuser)
        {
            return [runuser, "-u", user, "--"];
        }

        if (Executables.Find("setpriv", "/usr/bin", "/bin") is { } setpriv)
        {
            return [setpriv, $"--reuid={user}", $"--regid={user}", "--init-groups", "--"];
        }

        return null;
    }

    // DllImport rather than LibraryImport: a blittable call needs no generated (unsafe) stub.
    [DllImport("libc", ExactSpelling = true)]
    private static extern uint geteuid();
}
