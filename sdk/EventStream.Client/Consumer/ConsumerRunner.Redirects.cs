using EventStream.Client.Transport;
using EventStream.Protocol;
using Grpc.Core;

namespace EventStream.Client.Consumer;

/// <summary>
/// Following the broker that runs the group. Brokers sharing a database run each group on one of them;
/// the others answer a join with UNAVAILABLE and that broker's address in the
/// <see cref="CoordinatorRedirect.MetadataKey"/> trailer. The member then joins there, through a channel
/// of its own with the configured settings (see <see cref="BrokerConnector.Connect(Uri)"/>); when that
/// broker cannot be reached or its session ends, the member goes back to the configured broker after the
/// backoff (that broker may have died, and another one takes the group over once its lease expires).
/// </summary>
internal sealed partial class ConsumerRunner
{
    // Touched only by the session loop.
    private BrokerChannel? _redirected;
    private int _redirectsInARow;

    /// <summary>Where the next join goes: the broker running the group, once known, else the configured one.</summary>
    private BrokerChannel Target => _redirected ?? _channel;

    /// <summary>The address a broker named as the group's coordinator, when the failure is such a redirect.</summary>
    internal static Uri? CoordinatorAddress(Exception e) =>
        e is RpcException { StatusCode: StatusCode.Unavailable } g
        && g.Trailers.GetValue(CoordinatorRedirect.MetadataKey) is { } address
        && Uri.TryCreate(address, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    /// <summary>Points the next join at the coordinator; returns how long to wait before it.</summary>
    private TimeSpan Follow(Uri coordinator, BrokerChannel target, ref int attempt, Exception redirect)
    {
        if (target.IsAt(coordinator))
        {
            // The broker names itself: its previous process held the group and the lease has not expired yet.
            var wait = Backoff(++attempt);
            ConsumerLog.Reconnecting(_logger, Group, MemberId, StatusCode.Unavailable, wait, attempt, redirect);
            return wait;
        }
        DropRedirect();
        if (!_channel.IsAt(coordinator))
        {
            _redirected = _connector.Connect(coordinator);
        }
        // The first redirect is followed at once; a run of them (the group moving) backs off.
        var delay = ++_redirectsInARow == 1 ? TimeSpan.Zero : Backoff(++attempt);
        ConsumerLog.Redirected(_logger, Group, MemberId, target.Address, coordinator, delay);
        return delay;
    }

    /// <summary>After a failure or an ended session at the coordinator, the next join goes to the configured broker again.</summary>
    private void FallBack(TimeSpan delay)
    {
        if (_redirected is { } redirected)
        {
            ConsumerLog.FallingBack(_logger, Group, MemberId, redirected.Address, _channel.Address, delay);
            DropRedirect();
        }
    }

    private void DropRedirect()
    {
        _redirected?.Dispose();
        _redirected = null;
    }
}
