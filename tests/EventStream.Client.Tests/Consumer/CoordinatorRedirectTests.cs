using EventStream.Client.Consumer;
using EventStream.Grpc;
using EventStream.Protocol.Methods;

namespace EventStream.Client.Tests.Consumer;

/// <summary>Which failures send the consumer to another broker.</summary>
public sealed class CoordinatorRedirectTests
{
    [Fact]
    public void UNAVAILABLE_with_the_coordinator_trailer_is_a_redirect_to_that_address()
    {
        var e = Failure(GrpcStatusCode.Unavailable, "http://10.0.0.5:7400");
        Assert.Equal(new Uri("http://10.0.0.5:7400"), ConsumerRunner.CoordinatorAddress(e));
    }

    [Theory]
    [InlineData(GrpcStatusCode.Unavailable, null)]
    [InlineData(GrpcStatusCode.Unavailable, "10.0.0.5:7400")]
    [InlineData(GrpcStatusCode.Unavailable, "ftp://10.0.0.5:7400")]
    [InlineData(GrpcStatusCode.FailedPrecondition, "http://10.0.0.5:7400")]
    public void Other_failures_are_not_redirects(GrpcStatusCode code, string? address)
    {
        Assert.Null(ConsumerRunner.CoordinatorAddress(Failure(code, address)));
        Assert.Null(ConsumerRunner.CoordinatorAddress(new InvalidOperationException("not gRPC")));
    }

    private static GrpcException Failure(GrpcStatusCode code, string? address)
    {
        var trailers = new Metadata();
        if (address is not null)
        {
            trailers.Add(ConsumerMethods.CoordinatorMetadataKey, address);
        }
        return new GrpcException(new GrpcStatus(code, "elsewhere"), trailers);
    }
}
