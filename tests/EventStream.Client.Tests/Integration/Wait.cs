namespace EventStream.Client.Tests.Integration;

/// <summary>Waits on conditions without fixed sleeps.</summary>
internal static class Wait
{
    /// <summary>Polls a condition every 50 ms until it holds or the time is up (then fails with <paramref name="what"/>).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
