using Grpc.Core;

namespace EventStream.Client.Transport;

/// <summary>
/// Calls to one broker: the invoker to start them on (interceptors applied), the broker's address for
/// logs and redirects, and the channel to dispose with it when the SDK created that channel.
/// </summary>
internal sealed class BrokerChannel : IDisposable
{
    private readonly Uri? _address;
    private readonly IDisposable? _owned;

    /// <summary>A channel to a known address; <paramref name="owned"/> is disposed with it.</summary>
    public BrokerChannel(CallInvoker invoker, Uri address, IDisposable? owned)
    {
        Invoker = invoker;
        _address = address;
        _owned = owned;
        Address = address.ToString();
    }

    /// <summary>The user's own channel, known only by its target (host:port); not disposed here.</summary>
    public BrokerChannel(CallInvoker invoker, string target)
    {
        Invoker = invoker;
        Address = target;
    }

    public CallInvoker Invoker { get; }

    /// <summary>Where the calls go, for logs: the address, or the target of the user's channel.</summary>
    public string Address { get; }

    /// <summary>Whether <paramref name="address"/> names this broker (scheme, host and port; by host and port for the user's channel).</summary>
    public bool IsAt(Uri address) => _address is { } own
        ? Uri.Compare(own, address, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
        : string.Equals(address.Authority, Address, StringComparison.OrdinalIgnoreCase);

    public void Dispose() => _owned?.Dispose();
}
