namespace EventStream.Broker.Reading;

/// <summary>Log messages of group-less reads (event ids 24xx).</summary>
internal static partial class ReadLog
{
    [LoggerMessage(2402, LogLevel.Warning, "The commit notification channel was lost; {Followers} followers end: {Reason}", EventName = "ListenerLost")]
    public static partial void ListenerLost(ILogger logger, int followers, string reason);

    [LoggerMessage(2403, LogLevel.Information, "Listening for commit notices", EventName = "Listening")]
    public static partial void Listening(ILogger logger);
}
