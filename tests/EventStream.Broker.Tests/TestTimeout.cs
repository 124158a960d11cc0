namespace EventStream.Broker.Tests;

/// <summary>Bounds a test's waits, so a hung server fails the test instead of the run.</summary>
public static class TestTimeout
{
    public static CancellationToken Token(int seconds = 120) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
