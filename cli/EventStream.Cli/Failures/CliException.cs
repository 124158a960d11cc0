namespace EventStream.Cli.Failures;

/// <summary>A failure the command line reports as one line on stderr, with its exit code.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
