using System.CommandLine;
using EventStream.Cli.Connection;
using EventStream.Cli.Text;
using EventStream.Client;
using EventStream.Protocol.V1;

namespace EventStream.Cli.Commands;

/// <summary>Options every command takes, and the start-point options consume and group reset share.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Broker = new("--broker", "-b")
    {
        Description = $"Broker address (default: ${BrokerAddress.BrokerVariable}, the profile file, or {BrokerAddress.Default})",
        Recursive = true,
    };

    public static readonly Option<string?> Profile = new("--profile")
    {
        Description = $"Profile of the profile file (${BrokerAddress.ConfigVariable} or ~/.config/eventstream/profiles) to take the broker from",
        Recursive = true,
    };

    public static BrokerConnection Connect(ParseResult parse) =>
        new(BrokerAddress.Resolve(parse.GetValue(Broker), parse.GetValue(Profile)));

    public static string AddressOf(ParseResult parse)
    {
        try
        {
            return BrokerAddress.Resolve(parse.GetValue(Broker), parse.GetValue(Profile));
        }
        catch (Failures.CliException)
        {
            return parse.GetValue(Broker) ?? BrokerAddress.Default;
        }
    }
}

/// <summary>--earliest, --latest, --since and --at: at most one.</summary>
internal sealed class StartOptions
{
    public Option<bool> Earliest { get; } = new("--earliest") { Description = "Start from the oldest event still retained" };

    public Option<bool> Latest { get; } = new("--latest") { Description = "Start with events stored from now on" };

    public Option<string?> Since { get; } = new("--since") { Description = "Start with events stored this long ago, e.g. 10m, 2h, 7d" };

    public Option<string?> At { get; } = new("--at") { Description = "Start with events stored at or after this time (ISO 8601 or Unix ms)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Earliest);
        command.Options.Add(Latest);
        command.Options.Add(Since);
        command.Options.Add(At);
    }

    /// <summary>The start chosen, or <paramref name="fallback"/> when none was.</summary>
    public StartPosition Read(ParseResult parse, StartPosition fallback)
    {
        var chosen = new List<StartPosition>();
        if (parse.GetValue(Earliest))
        {
            chosen.Add(StartPosition.Earliest);
        }
        if (parse.GetValue(Latest))
        {
            chosen.Add(StartPosition.Latest);
        }
        if (parse.GetValue(Since) is { } since)
        {
            chosen.Add(StartPosition.FromTime(DateTimeOffset.UtcNow - Durations.Parse("--since", since)));
        }
        if (parse.GetValue(At) is { } at)
        {
            chosen.Add(StartPosition.FromTime(Times.Parse("--at", at)));
        }
        return chosen.Count switch
        {
            0 => fallback,
            1 => chosen[0],
            _ => throw new Failures.CliException("choose one of --earliest, --latest, --since and --at"),
        };
    }

    public static StartPoint ToMessage(StartPosition start) => start.Kind switch
    {
        StartPositionKind.Earliest => new StartPoint { Kind = StartPoint.Types.Kind.Earliest },
        StartPositionKind.FromTime => new StartPoint { Kind = StartPoint.Types.Kind.Time, Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(start.Time!.Value) },
        _ => new StartPoint { Kind = StartPoint.Types.Kind.Latest },
    };
}
