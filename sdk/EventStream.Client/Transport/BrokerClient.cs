using Grpc.Core;

namespace EventStream.Client.Transport;

/// <summary>
/// The typed gRPC client the SDK registers with the gRPC client factory (<c>AddGrpcClient</c>): it only
/// hands the factory's call invoker (handler, channel settings and interceptors as configured on the
/// client's <c>IHttpClientBuilder</c>) to the producer or consumer.
/// </summary>
internal sealed class BrokerClient : ClientBase<BrokerClient>
{
    /// <summary>Called by the client factory.</summary>
    public BrokerClient(CallInvoker callInvoker)
        : base(callInvoker)
    {
    }

    private BrokerClient(ClientBaseConfiguration configuration)
        : base(configuration)
    {
    }

    /// <summary>The factory's invoker for the client's broker.</summary>
    public CallInvoker Invoker => CallInvoker;

    protected override BrokerClient NewInstance(ClientBaseConfiguration configuration) => new(configuration);
}
