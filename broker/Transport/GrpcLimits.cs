using Microsoft.Extensions.Options;

namespace EventStream.Broker.Transport;

/// <summary>Message size limits of the broker's gRPC services (section <c>EventStream:Grpc</c>).</summary>
internal sealed class GrpcLimits
{
    public const string SectionName = "EventStream:Grpc";

    /// <summary>The largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest response message sent; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = 4 * 1024 * 1024;

    internal sealed class Validator : IValidateOptions<GrpcLimits>
    {
        public ValidateOptionsResult Validate(string? name, GrpcLimits options) =>
            options.MaxReceiveMessageSize <= 0 || options.MaxSendMessageSize <= 0
                ? ValidateOptionsResult.Fail($"{SectionName}:MaxReceiveMessageSize and MaxSendMessageSize must be positive.")
                : ValidateOptionsResult.Success;
    }
}
