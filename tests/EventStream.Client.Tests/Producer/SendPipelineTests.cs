using EventStream.Client.Producer;
using Grpc.Core;

namespace EventStream.Client.Tests.Producer;

/// <summary>Sequence numbers, flow control and recovery, driven without a server.</summary>
public class SendPipelineTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Later = TimeSpan.FromMinutes(1);
    private readonly EventStreamProducerOptions _options = new()
    {
        ProducerId = "p",
        MaxInFlight = 2,
        MaxRetries = 3,
        RetryBackoff = TimeSpan.FromMilliseconds(100),
        MaxRetryBackoff = TimeSpan.FromSeconds(1),
    };

    private SendPipeline Create() => new(_options, () => 0.5);

    private static List<ProducerBatch> Take(SendPipeline pipeline, TimeSpan now)
    {
        var toSend = new List<ProducerBatch>();
        pipeline.TakeSendable(now, toSend);
        return toSend;
    }

    private static Exception Error(StatusCode code) => new RpcException(new Status(code, "test"));

    /// <summary>Sends and acknowledges one batch, so the broker knows the producer and pipelining starts.</summary>
    private static SendPipeline Confirmed(SendPipeline pipeline)
    {
        var first = PendingEvents.Batch(1);
        pipeline.Add(first, T0);
        Assert.Equal([first], Take(pipeline, T0));
        pipeline.OnAcknowledged(first);
        return pipeline;
    }

    [Fact]
    public void Only_one_batch_is_in_flight_until_the_broker_has_acknowledged_one()
    {
        var pipeline = Create();
        var batches = Enumerable.Range(0, 3).Select(_ => PendingEvents.Batch(1)).ToList();
        batches.ForEach(b => pipeline.Add(b, T0));

        Assert.Equal([batches[0]], Take(pipeline, T0));
        Assert.Empty(Take(pipeline, T0));
        pipeline.OnAcknowledged(batches[0]);
        Assert.Equal(batches[1..], Take(pipeline, T0));
    }

    [Fact]
    public void Batches_are_numbered_in_sealing_order_by_event()
    {
        var pipeline = Create();
        var a = PendingEvents.Batch(3);
        var b = PendingEvents.Batch(2);
        var c = PendingEvents.Batch(1);
        pipeline.Add(a, T0);
        pipeline.Add(b, T0);
        pipeline.Add(c, T0);
        Assert.Equal([0L, 3L, 5L], new[] { a, b, c }.Select(x => x.FirstSequence));
        Assert.All(new[] { a, b, c }, x => Assert.Equal("p", x.ProducerId));
    }

    [Fact]
    public void Without_idempotence_batches_carry_no_producer_id()
    {
        _options.EnableIdempotence = false;
        var pipeline = Create();
        var batch = PendingEvents.Batch(1);
        pipeline.Add(batch, T0);
        Assert.Equal("", batch.ProducerId);
    }

    [Fact]
    public void At_most_MaxInFlight_batches_are_sent_in_order()
    {
        var pipeline = Confirmed(Create());
        var batches = Enumerable.Range(0, 4).Select(_ => PendingEvents.Batch(1)).ToList();
        batches.ForEach(b => pipeline.Add(b, T0));

        Assert.Equal(batches[..2], Take(pipeline, T0));
        Assert.Empty(Take(pipeline, T0));
        Assert.False(pipeline.CanSendNew);

        pipeline.OnAcknowledged(batches[0]);
        Assert.Equal([batches[2]], Take(pipeline, T0));
        pipeline.OnAcknowledged(batches[1]);
        Assert.Equal([batches[3]], Take(pipeline, T0));
        pipeline.OnAcknowledged(batches[2]);
        Assert.True(pipeline.CanSendNew);
    }

    [Fact]
    public void The_window_starts_at_the_earliest_unacknowledged_batch_whatever_the_order_of_answers()
    {
        var pipeline = Confirmed(Create());
        var batches = Enumerable.Range(0, 3).Select(_ => PendingEvents.Batch(1)).ToList();
        batches.ForEach(b => pipeline.Add(b, T0));
        Take(pipeline, T0);

        // Batch 1 is answered first: batch 2 would be the third batch past batch 0, which may still be resent.
        pipeline.OnAcknowledged(batches[1]);
        Assert.Equal(1, pipeline.InFlight);
        Assert.Empty(Take(pipeline, T0));
        Assert.False(pipeline.CanSendNew);
        Assert.Equal(TimeSpan.FromMinutes(2), pipeline.NextDue());

        pipeline.OnAcknowledged(batches[0]);
        Assert.Equal([batches[2]], Take(pipeline, T0));
    }

    [Fact]
    public void After_a_transient_failure_the_earliest_batch_is_resent_alone_then_pipelining_resumes()
    {
        var pipeline = Confirmed(Create());
        var batches = Enumerable.Range(0, 4).Select(_ => PendingEvents.Batch(1)).ToList();
        batches.ForEach(b => pipeline.Add(b, T0));
        Take(pipeline, T0); // 0 and 1 in flight

        Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(batches[0], StatusCode.Unavailable, Error(StatusCode.Unavailable), T0));
        Assert.True(pipeline.Recovering);
        Assert.Equal(T0 + TimeSpan.FromMilliseconds(100), batches[0].RetryAt);
        // Batch 1 is still in flight: nothing is sent, not even after the backoff.
        Assert.Empty(Take(pipeline, Later));

        // The broker is missing batch 0, so batch 1 comes back ABORTED: it waits, without a retry counted.
        Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(batches[1], StatusCode.Aborted, Error(StatusCode.Aborted), T0));
        Assert.Equal(0, batches[1].Retries);
        Assert.Equal(T0 + TimeSpan.FromMilliseconds(100), pipeline.NextDue());

        Assert.Empty(Take(pipeline, T0));
        Assert.Equal([batches[0]], Take(pipeline, T0 + TimeSpan.FromMilliseconds(100)));
        Assert.Empty(Take(pipeline, Later));

        pipeline.OnAcknowledged(batches[0]);
        Assert.False(pipeline.Recovering);
        Assert.Equal([batches[1], batches[2]], Take(pipeline, Later));
        Assert.Equal([2L, 3L], new[] { batches[1], batches[2] }.Select(b => b.FirstSequence));
    }

    [Fact]
    public void A_failure_while_recovering_keeps_resending_the_earliest_batch_with_growing_backoff()
    {
        var pipeline = Create();
        var batch = PendingEvents.Batch(1);
        pipeline.Add(batch, T0);
        Take(pipeline, T0);
        pipeline.OnFailed(batch, StatusCode.Unavailable, Error(StatusCode.Unavailable), T0);
        Take(pipeline, Later);
        pipeline.OnFailed(batch, StatusCode.DeadlineExceeded, Error(StatusCode.DeadlineExceeded), Later);
        Assert.Equal(2, batch.Retries);
        Assert.Equal(Later + TimeSpan.FromMilliseconds(200), batch.RetryAt);
        Assert.Equal(2, batch.Attempts);
    }

    [Fact]
    public void Batch_is_given_up_after_MaxRetries()
    {
        var pipeline = Create();
        var batch = PendingEvents.Batch(1);
        pipeline.Add(batch, T0);
        var now = T0;
        for (var retry = 1; retry <= 3; retry++)
        {
            Assert.Equal([batch], Take(pipeline, now));
            Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(batch, StatusCode.Unavailable, Error(StatusCode.Unavailable), now));
            now = batch.RetryAt;
        }
        Assert.Equal([batch], Take(pipeline, now));
        Assert.Equal(FailureDecision.GiveUp, pipeline.OnFailed(batch, StatusCode.Unavailable, Error(StatusCode.Unavailable), now));
        Assert.Empty(pipeline.Unacknowledged);
        Assert.False(pipeline.Recovering);
        Assert.Equal(4, batch.Attempts);
    }

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.ResourceExhausted)]
    [InlineData(StatusCode.FailedPrecondition)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.PermissionDenied)]
    public void Non_transient_failure_gives_up_at_once_and_does_not_stop_the_pipeline(StatusCode code)
    {
        var pipeline = Create();
        var failed = PendingEvents.Batch(1);
        var next = PendingEvents.Batch(1);
        pipeline.Add(failed, T0);
        Take(pipeline, T0);
        Assert.Equal(FailureDecision.GiveUp, pipeline.OnFailed(failed, code, Error(code), T0));
        Assert.False(pipeline.Recovering);
        pipeline.Add(next, T0);
        Assert.Equal([next], Take(pipeline, T0));
    }

    [Fact]
    public void Aborted_earliest_batch_restarts_sequences_under_a_new_producer_id()
    {
        var pipeline = Confirmed(Create());
        var given = PendingEvents.Batch(2);
        var a = PendingEvents.Batch(3);
        var b = PendingEvents.Batch(1);
        pipeline.Add(given, T0);
        pipeline.Add(a, T0);
        pipeline.Add(b, T0);
        Take(pipeline, T0); // given and a in flight
        pipeline.OnFailed(given, StatusCode.InvalidArgument, Error(StatusCode.InvalidArgument), T0);
        // a arrives at the broker, which still expects sequence 0.
        Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(a, StatusCode.Aborted, Error(StatusCode.Aborted), T0));
        Assert.Equal([a], Take(pipeline, T0));
        Assert.Equal(3L, a.FirstSequence);

        // Sent alone, a is still ahead: the broker waits for a sequence that will never come.
        Assert.Equal(FailureDecision.RetryAfterReset, pipeline.OnFailed(a, StatusCode.Aborted, Error(StatusCode.Aborted), T0));
        Assert.Equal("p.1", pipeline.ProducerId);
        Assert.Equal(("p.1", 0L), (a.ProducerId, a.FirstSequence));
        Assert.Equal(("p.1", 3L), (b.ProducerId, b.FirstSequence));
        Assert.Equal(1, a.Retries);

        var c = PendingEvents.Batch(1);
        pipeline.Add(c, T0);
        Assert.Equal(("p.1", 4L), (c.ProducerId, c.FirstSequence));
        Assert.Equal([a], Take(pipeline, a.RetryAt));
        pipeline.OnAcknowledged(a);
        Assert.Equal([b, c], Take(pipeline, a.RetryAt));
    }

    [Fact]
    public void Without_idempotence_aborted_is_an_ordinary_transient_failure()
    {
        _options.EnableIdempotence = false;
        var pipeline = Create();
        var batch = PendingEvents.Batch(1);
        pipeline.Add(batch, T0);
        Take(pipeline, T0);
        Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(batch, StatusCode.Aborted, Error(StatusCode.Aborted), T0));
        Take(pipeline, batch.RetryAt);
        Assert.Equal(FailureDecision.Retry, pipeline.OnFailed(batch, StatusCode.Aborted, Error(StatusCode.Aborted), T0));
        Assert.Equal("", pipeline.ProducerId);
        Assert.Equal(2, batch.Retries);
    }

    [Fact]
    public void Failure_past_the_delivery_deadline_times_out()
    {
        var pipeline = Create();
        var batch = PendingEvents.Batch(1, deadline: TimeSpan.FromSeconds(10));
        pipeline.Add(batch, T0);
        Take(pipeline, T0);
        Assert.Equal(FailureDecision.TimedOut, pipeline.OnFailed(batch, StatusCode.DeadlineExceeded, Error(StatusCode.DeadlineExceeded), TimeSpan.FromSeconds(10)));
        Assert.Empty(pipeline.Unacknowledged);
    }

    [Fact]
    public void Waiting_batches_expire_at_their_deadline_but_in_flight_ones_wait_for_their_answer()
    {
        var pipeline = Create();
        var inFlight = PendingEvents.Batch(1, deadline: TimeSpan.FromSeconds(5));
        var waiting = PendingEvents.Batch(1, deadline: TimeSpan.FromSeconds(6));
        pipeline.Add(inFlight, T0);
        Take(pipeline, T0);
        pipeline.OnFailed(inFlight, StatusCode.Unavailable, Error(StatusCode.Unavailable), T0);
        Take(pipeline, inFlight.RetryAt);
        pipeline.Add(waiting, T0);
        Assert.Equal(TimeSpan.FromSeconds(6), pipeline.NextDue());

        var expired = new List<ProducerBatch>();
        pipeline.Expire(TimeSpan.FromSeconds(6), expired);
        Assert.Equal([waiting], expired);
        Assert.Equal([inFlight], pipeline.Unacknowledged);
    }

    [Fact]
    public void Closing_keeps_a_batch_whose_request_was_cut_off()
    {
        var pipeline = Create();
        var batch = PendingEvents.Batch(1);
        pipeline.Add(batch, T0);
        Take(pipeline, T0);
        pipeline.OnAbandoned(batch);
        Assert.Equal(0, pipeline.InFlight);
        Assert.Equal([batch], pipeline.RemoveAll());
        Assert.Empty(pipeline.Unacknowledged);
    }
}
