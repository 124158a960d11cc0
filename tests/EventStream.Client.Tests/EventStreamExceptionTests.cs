using Grpc.Core;

namespace EventStream.Client.Tests;

public class EventStreamExceptionTests
{
    [Theory]
    [InlineData(StatusCode.NotFound, EventStreamErrorReason.TopicNotFound, false)]
    [InlineData(StatusCode.InvalidArgument, EventStreamErrorReason.InvalidArgument, false)]
    [InlineData(StatusCode.OutOfRange, EventStreamErrorReason.InvalidArgument, false)]
    [InlineData(StatusCode.ResourceExhausted, EventStreamErrorReason.LimitExceeded, false)]
    [InlineData(StatusCode.Unavailable, EventStreamErrorReason.Unavailable, true)]
    [InlineData(StatusCode.DeadlineExceeded, EventStreamErrorReason.Timeout, true)]
    [InlineData(StatusCode.Aborted, EventStreamErrorReason.SequenceConflict, true)]
    [InlineData(StatusCode.FailedPrecondition, EventStreamErrorReason.SequenceConflict, false)]
    [InlineData(StatusCode.Cancelled, EventStreamErrorReason.Cancelled, false)]
    [InlineData(StatusCode.PermissionDenied, EventStreamErrorReason.PermissionDenied, false)]
    [InlineData(StatusCode.Unauthenticated, EventStreamErrorReason.Unauthenticated, false)]
    [InlineData(StatusCode.Unimplemented, EventStreamErrorReason.NotSupported, false)]
    [InlineData(StatusCode.Internal, EventStreamErrorReason.Internal, false)]
    [InlineData(StatusCode.DataLoss, EventStreamErrorReason.Internal, false)]
    [InlineData(StatusCode.Unknown, EventStreamErrorReason.Unknown, false)]
    [InlineData(StatusCode.AlreadyExists, EventStreamErrorReason.Unknown, false)]
    public void Grpc_status_maps_to_reason_and_transience(StatusCode code, EventStreamErrorReason reason, bool transient)
    {
        var e = EventStreamException.FromGrpc(new RpcException(new Status(code, "detail text")), "Producing 3 event(s) to topic 't'");
        Assert.Equal(reason, e.Reason);
        Assert.Equal(transient, e.IsTransient);
        Assert.Equal(code, e.StatusCode);
        Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal($"Producing 3 event(s) to topic 't' failed with {code}: detail text", e.Message);
    }

    [Fact]
    public void Every_status_code_has_a_mapping()
    {
        foreach (var code in Enum.GetValues<StatusCode>().Where(c => c != StatusCode.OK))
        {
            var (reason, _) = EventStreamException.Classify(code);
            Assert.True(Enum.IsDefined(reason));
        }
    }
}
