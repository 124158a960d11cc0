using Microsoft.Extensions.Options;

namespace EventStream.Broker.Transport;

/// <summary>Message size, stream and idle limits of the broker's gRPC services (section <c>EventStream:Grpc</c>).</summary>
internal sealed class GrpcLimits
{
    public const string SectionName = "EventStream:Grpc";

    /// <summary>The largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest response message sent; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Streaming calls (ProduceStream, Subscribe, health Watch) one connection may have open at once;
    /// one more fails with RESOURCE_EXHAUSTED. HTTP/2 allows twice as many streams, so unary calls
    /// still pass beside full streams. Default 100.
    /// </summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>
    /// How long a streaming call may go without a request message: a ProduceStream that sends
    /// nothing for this long is ended (OK; the SDK opens a new one when it next sends), a Subscribe
    /// that does not join within it fails with DEADLINE_EXCEEDED. Default 5 min.
    /// </summary>
    public TimeSpan IdleStreamTimeout { get; set; } = TimeSpan.FromMinutes(5);

    internal sealed class Validator : IValidateOptions<GrpcLimits>
    {
        public ValidateOptionsResult Validate(string? name, GrpcLimits options) =>
            options.MaxReceiveMessageSize <= 0 || options.MaxSendMessageSize <= 0 || options.MaxStreamsPerConnection <= 0
                ? ValidateOptionsResult.Fail($"{SectionName}:MaxReceiveMessageSize, MaxSendMessageSize and MaxStreamsPerConnection must be positive.")
                : options.IdleStreamTimeout <= TimeSpan.Zero
                ? ValidateOptionsResult.Fail($"{SectionName}:IdleStreamTimeout must be positive.")
                : ValidateOptionsResult.Success;
    }
}
