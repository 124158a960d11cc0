using EventStream.Client.Producer;

namespace EventStream.Client.Tests.Producer;

public class RetryBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(6, 3200)]
    [InlineData(7, 5000)]
    [InlineData(1000, 5000)]
    public void Backoff_doubles_up_to_the_maximum(int retry, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryBackoff.Delay(retry, Initial, Max, random: 0.5));

    [Fact]
    public void Jitter_stays_within_twenty_percent_and_under_the_maximum()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(320), RetryBackoff.Delay(3, Initial, Max, random: 0));
        Assert.Equal(TimeSpan.FromMilliseconds(480), RetryBackoff.Delay(3, Initial, Max, random: 1));
        Assert.Equal(Max, RetryBackoff.Delay(10, Initial, Max, random: 1));
        Assert.Equal(TimeSpan.FromMilliseconds(4000), RetryBackoff.Delay(10, Initial, Max, random: 0));
    }
}
