namespace EventStream.Client.Producer;

/// <summary>Exponential backoff with ±20 % jitter, capped.</summary>
internal static class RetryBackoff
{
    /// <summary>The wait before retry number <paramref name="retry"/> (1-based).</summary>
    /// <param name="retry">Which retry this is, from 1.</param>
    /// <param name="initial">The wait before the first retry.</param>
    /// <param name="max">The longest wait.</param>
    /// <param name="random">A number in [0, 1) choosing the jitter.</param>
    public static TimeSpan Delay(int retry, TimeSpan initial, TimeSpan max, double random)
    {
        var exponent = Math.Clamp(retry - 1, 0, 30);
        var ticks = Math.Min(initial.Ticks * Math.Pow(2, exponent), max.Ticks);
        var jittered = ticks * (0.8 + 0.4 * random);
        return TimeSpan.FromTicks((long)Math.Min(jittered, max.Ticks));
    }
}
