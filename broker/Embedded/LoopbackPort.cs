using System.Net;
using System.Net.Sockets;

namespace EventStream.Broker.Embedded;

/// <summary>Chooses the server's loopback port.</summary>
internal static class LoopbackPort
{
    /// <summary>
    /// The configured port; else the last one used, when still free, so clients that cached
    /// it keep working; else one the OS picks.
    /// </summary>
    public static int Choose(int configured, int? lastUsed)
    {
        if (configured != 0)
        {
            return configured;
        }

        if (lastUsed is > 0 and <= IPEndPoint.MaxPort && IsFree(lastUsed.Value))
        {
            return lastUsed.Value;
        }

        return PickFree();
    }

    public static int PickFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsFree(int port)
    {
        try
        {
            // Like postgres itself, ignore connections still in TIME_WAIT from the last run.
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
