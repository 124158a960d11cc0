using System.ComponentModel;
using System.Diagnostics;

namespace EventStream.Broker.Embedded;

/// <summary>Outcome of a finished command.</summary>
internal sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What the command printed, for error messages.</summary>
    public string Printed => string.Join(Environment.NewLine, new[] { Output.Trim(), Error.Trim() }.Where(s => s.Length > 0));
}

/// <summary>Runs a command to completion, capturing what it prints.</summary>
internal static class ProcessRunner
{
    /// <summary>
    /// Runs <paramref name="command"/> (program first) and waits for it; on timeout or
    /// cancellation the process is killed and the wait ends with an exception.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        IReadOnlyList<string> command, string workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        // pg_ctl would otherwise take these over our explicit flags in places.
        startInfo.Environment.Remove("PGDATA");
        startInfo.Environment.Remove("PGPORT");
        startInfo.Environment.Remove("PGOPTIONS");

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new EmbeddedPostgresException($"Could not run {command[0]}: {e.Message}", e);
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var output = process.StandardOutput.ReadToEndAsync(timeoutSource.Token);
        var error = process.StandardError.ReadToEndAsync(timeoutSource.Token);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
            return new ProcessResult(process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            throw new EmbeddedPostgresException(
                $"{string.Join(' ', command)} did not finish within {timeout.TotalSeconds:0} s.");
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
