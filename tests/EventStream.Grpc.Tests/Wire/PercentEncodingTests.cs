using EventStream.Grpc.Wire;

namespace EventStream.Grpc.Tests.Wire;

public class PercentEncodingTests
{
    [Theory]
    [InlineData("plain message", "plain message")]
    [InlineData("100%", "100%25")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("café ✓", "caf%C3%A9 %E2%9C%93")]
    public void Encodes_non_printable_bytes_and_percent(string message, string wire)
    {
        Assert.Equal(wire, PercentEncoding.Encode(message));
        Assert.Equal(message, PercentEncoding.Decode(wire));
    }

    [Theory]
    [InlineData("50%")]
    [InlineData("%zz tail")]
    [InlineData("%4")]
    public void Keeps_malformed_escapes_as_they_are(string wire) => Assert.Equal(wire, PercentEncoding.Decode(wire));
}
