namespace EventStream.Client.Tests;

/// <summary>Bounds a test's waits, so a hung producer fails the test instead of the run.</summary>
public static class TestTimeout
{
    public static CancellationToken Token(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
