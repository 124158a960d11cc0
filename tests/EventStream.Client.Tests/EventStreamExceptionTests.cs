using EventStream.Grpc;

namespace EventStream.Client.Tests;

public class EventStreamExceptionTests
{
    [Theory]
    [InlineData(GrpcStatusCode.NotFound, EventStreamErrorReason.TopicNotFound, false)]
    [InlineData(GrpcStatusCode.InvalidArgument, EventStreamErrorReason.InvalidArgument, false)]
    [InlineData(GrpcStatusCode.OutOfRange, EventStreamErrorReason.InvalidArgument, false)]
    [InlineData(GrpcStatusCode.ResourceExhausted, EventStreamErrorReason.LimitExceeded, false)]
    [InlineData(GrpcStatusCode.Unavailable, EventStreamErrorReason.Unavailable, true)]
    [InlineData(GrpcStatusCode.DeadlineExceeded, EventStreamErrorReason.Timeout, true)]
    [InlineData(GrpcStatusCode.Aborted, EventStreamErrorReason.SequenceConflict, true)]
    [InlineData(GrpcStatusCode.FailedPrecondition, EventStreamErrorReason.SequenceConflict, false)]
    [InlineData(GrpcStatusCode.Cancelled, EventStreamErrorReason.Cancelled, false)]
    [InlineData(GrpcStatusCode.PermissionDenied, EventStreamErrorReason.Unauthorized, false)]
    [InlineData(GrpcStatusCode.Unauthenticated, EventStreamErrorReason.Unauthorized, false)]
    [InlineData(GrpcStatusCode.Unimplemented, EventStreamErrorReason.NotSupported, false)]
    [InlineData(GrpcStatusCode.Internal, EventStreamErrorReason.Internal, false)]
    [InlineData(GrpcStatusCode.DataLoss, EventStreamErrorReason.Internal, false)]
    [InlineData(GrpcStatusCode.Unknown, EventStreamErrorReason.Unknown, false)]
    [InlineData(GrpcStatusCode.AlreadyExists, EventStreamErrorReason.Unknown, false)]
    public void Grpc_status_maps_to_reason_and_transience(GrpcStatusCode code, EventStreamErrorReason reason, bool transient)
    {
        var e = EventStreamException.FromGrpc(new GrpcException(code, "detail text"), "Producing 3 event(s) to topic 't'");
        Assert.Equal(reason, e.Reason);
        Assert.Equal(transient, e.IsTransient);
        Assert.Equal(code, e.StatusCode);
        Assert.IsType<GrpcException>(e.InnerException);
        Assert.Equal($"Producing 3 event(s) to topic 't' failed with {code}: detail text", e.Message);
    }

    [Fact]
    public void Every_status_code_has_a_mapping()
    {
        foreach (var code in Enum.GetValues<GrpcStatusCode>().Where(c => c != GrpcStatusCode.OK))
        {
            var (reason, _) = EventStreamException.Classify(code);
            Assert.True(Enum.IsDefined(reason));
        }
    }
}
