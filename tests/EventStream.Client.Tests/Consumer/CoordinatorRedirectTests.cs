using EventStream.Client.Consumer;
using EventStream.Protocol;
using Grpc.Core;

namespace EventStream.Client.Tests.Consumer;

/// <summary>Which failures send the consumer to another broker.</summary>
public sealed class CoordinatorRedirectTests
{
    [Fact]
    public void UNAVAILABLE_with_the_coordinator_trailer_is_a_redirect_to_that_address()
    {
        var e = Failure(StatusCode.Unavailable, "http://10.0.0.5:7400");
        Assert.Equal(new Uri("http://10.0.0.5:7400"), ConsumerRunner.CoordinatorAddress(e));
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, null)]
    [InlineData(StatusCode.Unavailable, "10.0.0.5:7400")]
    [InlineData(StatusCode.Unavailable, "ftp://10.0.0.5:7400")]
    [InlineData(StatusCode.FailedPrecondition, "http://10.0.0.5:7400")]
    public void Other_failures_are_not_redirects(StatusCode code, string? address)
    {
        Assert.Null(ConsumerRunner.CoordinatorAddress(Failure(code, address)));
        Assert.Null(ConsumerRunner.CoordinatorAddress(new InvalidOperationException("not gRPC")));
    }

    private static RpcException Failure(StatusCode code, string? address)
    {
        var trailers = new Metadata();
        if (address is not null)
        {
            trailers.Add(CoordinatorRedirect.MetadataKey, address);
        }
        return new RpcException(new Status(code, "elsewhere"), trailers);
    }
}
