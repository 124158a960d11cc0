using EventStream.Grpc;
using EventStream.Grpc.Client;
using EventStream.Protocol.Methods;

namespace EventStream.Client.Consumer;

/// <summary>
/// Following the broker that runs the group. Brokers sharing a database run each group on one of them;
/// the others answer a join with UNAVAILABLE and that broker's address in the
/// <see cref="ConsumerMethods.CoordinatorMetadataKey"/> trailer. The member then joins there, through
/// a channel of its own; when that broker cannot be reached or its session ends, the member goes back to
/// the configured address after the backoff (that broker may have died, and another one takes the group
/// over once its lease expires).
/// </summary>
internal sealed partial class ConsumerRunner
{
    // Touched only by the session loop.
    private GrpcChannel? _redirected;
    private int _redirectsInARow;

    /// <summary>Where the next join goes: the broker running the group, once known, else the configured one.</summary>
    private GrpcChannel Target => _redirected ?? _channel;

    /// <summary>The address a broker named as the group's coordinator, when the failure is such a redirect.</summary>
    internal static Uri? CoordinatorAddress(Exception e) =>
        e is GrpcException { StatusCode: GrpcStatusCode.Unavailable } g
        && g.Trailers.GetValue(ConsumerMethods.CoordinatorMetadataKey) is { } address
        && Uri.TryCreate(address, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    /// <summary>Points the next join at the coordinator; returns how long to wait before it.</summary>
    private TimeSpan Follow(Uri coordinator, GrpcChannel target, ref int attempt, Exception redirect)
    {
        if (SameBroker(coordinator, target.Address))
        {
            // The broker names itself: its previous process held the group and the lease has not expired yet.
            var wait = Backoff(++attempt);
            ConsumerLog.Reconnecting(_logger, Group, MemberId, GrpcStatusCode.Unavailable, wait, attempt, redirect);
            return wait;
        }
        DropRedirect();
        if (!SameBroker(coordinator, _channel.Address))
        {
            _redirected = GrpcChannel.ForAddress(coordinator, RedirectChannelOptions());
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

    /// <summary>The configured channel settings; a handler passed in stays with its owner, the configured channel.</summary>
    private GrpcChannelOptions RedirectChannelOptions()
    {
        var configured = _options.ChannelOptions ?? new GrpcChannelOptions();
        return new GrpcChannelOptions
        {
            MaxSendMessageSize = configured.MaxSendMessageSize,
            MaxReceiveMessageSize = configured.MaxReceiveMessageSize,
            CompressRequests = configured.CompressRequests,
            HttpHandler = configured.HttpHandler,
            DisposeHttpHandler = false,
            UserAgent = configured.UserAgent,
        };
    }

    private static bool SameBroker(Uri a, Uri b) => Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
