namespace EventStream.Cli.Failures;

/// <summary>The exit codes scripts can rely on; the README lists them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The broker refused or failed the operation for another reason than below.</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or input: unknown option, bad duration or time, a line that is not JSON, a field the broker refused.</summary>
    public const int Usage = 2;

    /// <summary>The topic or group does not exist (or, on create, already exists).</summary>
    public const int NotFound = 3;

    /// <summary>The broker cannot be reached, is not serving, or did not answer in time.</summary>
    public const int Unavailable = 4;

    /// <summary>The broker refused the caller: no or wrong credentials, or no right to do this.</summary>
    public const int Denied = 5;

    /// <summary>Ctrl-C or SIGTERM cut a command other than consume short (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
