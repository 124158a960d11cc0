using System.CommandLine;
using System.Runtime.InteropServices;
using EventStream.Cli.Commands;
using EventStream.Cli.Failures;
using Spectre.Console;

namespace EventStream.Cli;

/// <summary>
/// The command tree and how a run ends: parse errors and failures become one line on stderr and an
/// exit code (<see cref="ExitCodes"/>); Ctrl-C (SIGINT) or SIGTERM cancels the command, which ends cleanly.
/// </summary>
internal static class CliApp
{
    /// <summary>Plain text, without colors or cursor movement, when the stream is not a terminal.</summary>
    private static IAnsiConsole ConsoleFor(TextWriter writer, bool redirected) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
    });

    public static async Task<int> RunAsync(string[] args)
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        var stderr = Console.Error;
        var tables = ConsoleFor(stdout, Console.IsOutputRedirected);
        var progress = ConsoleFor(stderr, Console.IsErrorRedirected);

        var root = new RootCommand("eventstream: topics, produce, consume and consumer groups of an EventStream broker");
        foreach (var option in GlobalOptions.All)
        {
            root.Options.Add(option);
        }
        root.Subcommands.Add(TopicCommands.Create(tables));
        root.Subcommands.Add(ProduceCommand.Create(progress));
        root.Subcommands.Add(ConsumeCommand.Create(stdout));
        root.Subcommands.Add(GroupCommands.Create(tables));
        root.Subcommands.Add(BrokerCommands.Create(tables));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // An unknown word explains more than the missing command it leads to.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            ErrorReport.Write(stderr, error.Message + " (see --help)");
            return ExitCodes.Usage;
        }

        using var cancel = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            // Signals and failures are handled here, so the library's own handlers are off.
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            var code = await parse.InvokeAsync(configuration, cancel.Token);
            return code;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Ending a consume is what Ctrl-C is for; anything else was cut short (128 + SIGINT, as shells report it).
            return parse.CommandResult.Command.Name == "consume" ? ExitCodes.Ok : ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            var (line, code) = ErrorReport.Describe(e, GlobalOptions.AddressOf(parse));
            ErrorReport.Write(stderr, line);
            return code;
        }
        finally
        {
            try
            {
                stdout.Flush();
            }
            catch (IOException)
            {
                // The reader of a pipe went away (e.g. `| head`).
            }
        }
    }
}
