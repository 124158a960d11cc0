using System.Globalization;
using Grpc.Core;

namespace EventStream.Client.Producer;

/// <summary>The exceptions a producer's events fail with.</summary>
internal static class ProduceErrors
{
    public static EventStreamException GaveUp(string topic, ProducerBatch batch, Exception error) => error switch
    {
        EventStreamException e => e,
        RpcException e => EventStreamException.FromGrpc(e, Context(topic, batch)),
        _ => new EventStreamException(EventStreamErrorReason.Unknown, $"{Context(topic, batch)} failed: {error.Message}", innerException: error),
    };

    public static EventStreamException TimedOut(string topic, ProducerBatch batch, TimeSpan deliveryTimeout)
    {
        var last = batch.LastError is null ? "" : $"; the last attempt failed with {Describe(batch.LastError)}";
        var code = (batch.LastError as RpcException)?.StatusCode ?? StatusCode.DeadlineExceeded;
        return new EventStreamException(EventStreamErrorReason.Timeout,
            $"{Context(topic, batch)} was not acknowledged within the delivery timeout of {deliveryTimeout}{last}",
            isTransient: true, code, batch.LastError);
    }

    public static EventStreamException Closed(string topic) =>
        new(EventStreamErrorReason.ClientClosed,
            $"The producer was closed before the event to topic '{topic}' was acknowledged; it may or may not have been stored.",
            isTransient: false, StatusCode.Cancelled);

    public static EventStreamException TooLarge(string topic, int size, int limit) =>
        new(EventStreamErrorReason.LimitExceeded,
            string.Create(CultureInfo.InvariantCulture, $"An event of {size} bytes to topic '{topic}' exceeds the {limit} bytes a request may carry."),
            isTransient: false, StatusCode.ResourceExhausted);

    private static string Context(string topic, ProducerBatch batch) =>
        string.Create(CultureInfo.InvariantCulture, $"Producing {batch.Count} event(s) to topic '{topic}'");

    private static string Describe(Status status) => string.IsNullOrEmpty(status.Detail) ? status.StatusCode.ToString() : $"{status.StatusCode}: {status.Detail}";

    private static string Describe(Exception error) => error is RpcException g ? Describe(g.Status) : error.Message;
}
