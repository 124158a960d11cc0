using System.CommandLine;
using EventStream.Cli.Connection;
using EventStream.Cli.Failures;
using Grpc.Health.V1;
using Spectre.Console;

namespace EventStream.Cli.Commands;

/// <summary><c>broker health</c>: the broker's grpc.health.v1 status; exit 0 only when SERVING.</summary>
internal static class BrokerCommands
{
    public static Command Create(IAnsiConsole stdout)
    {
        var health = new Command("health", "Ask the broker whether it is serving (exit 0 when SERVING)");
        health.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            var answer = await broker.Health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: token);
            if (answer.Status != HealthCheckResponse.Types.ServingStatus.Serving)
            {
                throw new CliException($"the broker at {broker.Address} is {(answer.Status == HealthCheckResponse.Types.ServingStatus.NotServing ? "NOT_SERVING" : answer.Status.ToString().ToUpperInvariant())}", ExitCodes.Unavailable);
            }
            stdout.MarkupLineInterpolated($"{broker.Address} SERVING");
        });
        var command = new Command("broker", "The broker itself");
        command.Subcommands.Add(health);
        return command;
    }
}
