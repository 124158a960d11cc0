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
        Description = $"Broker address (default: ${ConnectionSettings.BrokerVariable}, the profile file, or {ConnectionSettings.DefaultAddress})",
        Recursive = true,
    };

    public static readonly Option<string?> Profile = new("--profile")
    {
        Description = $"Profile of the profile file (${ConnectionSettings.ConfigVariable} or ~/.config/eventstream/profiles) to take settings from",
        Recursive = true,
    };

    public static readonly Option<string?> ApiKey = new("--api-key") { Description = "API key (default: $EVENTSTREAM_API_KEY or the profile's api_key)", Recursive = true };

    public static readonly Option<string?> Token = new("--token") { Description = "Bearer token, a JWT (default: $EVENTSTREAM_TOKEN or the profile's token)", Recursive = true };

    public static readonly Option<string?> User = new("--user") { Description = "User for password authentication (default: $EVENTSTREAM_USER or the profile's user)", Recursive = true };

    public static readonly Option<string?> Password = new("--password") { Description = "Password (default: $EVENTSTREAM_PASSWORD or the profile's password)", Recursive = true };

    public static readonly Option<string?> Certificate = new("--cert") { Description = "Client certificate, PEM, for mutual TLS (default: $EVENTSTREAM_CERT or the profile's cert)", Recursive = true };

    public static readonly Option<string?> CertificateKey = new("--cert-key") { Description = "The client certificate's private key, PEM, when not in the certificate's file", Recursive = true };

    public static IEnumerable<Option> All => [Broker, Profile, ApiKey, Token, User, Password, Certificate, CertificateKey];

    public static BrokerConnection Connect(ParseResult parse) => new(Settings(parse));

    /// <summary>The broker's address for error messages, even when the settings do not resolve.</summary>
    public static string AddressOf(ParseResult parse)
    {
        try
        {
            return Settings(parse).Address;
        }
        catch (Failures.CliException)
        {
            return parse.GetValue(Broker) ?? ConnectionSettings.DefaultAddress;
        }
    }

    private static ConnectionSettings Settings(ParseResult parse) => ConnectionSettings.Resolve(new ConnectionSettings.Given(
        parse.GetValue(Broker), parse.GetValue(Profile), parse.GetValue(ApiKey), parse.GetValue(Token),
        parse.GetValue(User), parse.GetValue(Password), parse.GetValue(Certificate), parse.GetValue(CertificateKey)));
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
