using System.ComponentModel;
using System.Diagnostics;

namespace EventStream.Broker.Tests.Compose;

/// <summary>
/// The Compose command line when installed: <c>docker compose</c> (v2), else the older
/// <c>docker-compose</c> (1.x). <c>config</c> validates and resolves a project without a
/// container engine.
/// </summary>
internal static class ComposeCli
{
    private static readonly Lazy<string[]?> Found = new(Find);

    /// <summary>The program and leading arguments, or null when neither is installed.</summary>
    public static string[]? Command => Found.Value;

    /// <summary>True for docker-compose 1.x, which predates the top-level <c>name</c>.</summary>
    public static bool IsVersion1 => Command is ["docker-compose"];

    public static (int ExitCode, string Output) Run(IEnumerable<string> arguments, string workingDirectory)
    {
        var command = Command ?? throw new InvalidOperationException("No Compose command line is installed.");
        return RunProcess(command[0], [.. command.Skip(1), .. arguments], workingDirectory)
            ?? throw new InvalidOperationException($"{command[0]} could not be started.");
    }

    private static string[]? Find()
    {
        if (RunProcess("docker", ["compose", "version"], Path.GetTempPath()) is (0, _))
        {
            return ["docker", "compose"];
        }
        if (RunProcess("docker-compose", ["version"], Path.GetTempPath()) is (0, _))
        {
            return ["docker-compose"];
        }
        return null;
    }

    private static (int ExitCode, string Output)? RunProcess(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{program} did not finish within 60 s");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>A test that needs the Compose command line; reported as skipped without it.</summary>
public sealed class ComposeCliFactAttribute : FactAttribute
{
    public ComposeCliFactAttribute()
    {
        if (ComposeCli.Command is null)
        {
            Skip = "Neither `docker compose` nor `docker-compose` is installed.";
        }
    }
}
