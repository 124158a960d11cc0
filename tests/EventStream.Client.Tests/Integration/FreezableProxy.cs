using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// A TCP proxy on loopback in front of the broker, for network failures: <see cref="Freeze"/> stops
/// passing bytes on in one direction (they pile up in the proxy's socket buffers, as on a stalled
/// network), <see cref="Thaw"/> lets them through again, and <see cref="ResetAll"/> cuts every
/// connection, dropping whatever was in flight.
/// </summary>
internal sealed class FreezableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentQueue<Socket> _sockets = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile TaskCompletionSource _toClient = Thawed();
    private volatile TaskCompletionSource _toBroker = Thawed();
    private int _accepted;

    public FreezableProxy(string brokerAddress)
    {
        var uri = new Uri(brokerAddress);
        _target = new IPEndPoint(IPAddress.Loopback, uri.Port);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Stops forwarding what the broker sends (or, with <paramref name="requests"/>, what clients send).</summary>
    public void Freeze(bool requests = false)
    {
        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (requests)
        {
            _toBroker = frozen;
        }
        else
        {
            _toClient = frozen;
        }
    }

    /// <summary>Forwards both ways again, held bytes first.</summary>
    public void Thaw()
    {
        _toClient.TrySetResult();
        _toBroker.TrySetResult();
    }

    /// <summary>Resets every connection (both sides) and forwards normally again.</summary>
    public void ResetAll()
    {
        while (_sockets.TryDequeue(out var socket))
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Closed already.
            }
            socket.Dispose();
        }
        Thaw();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        ResetAll();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var broker = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await broker.ConnectAsync(_target, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                broker.Dispose();
                continue;
            }
            _sockets.Enqueue(client);
            _sockets.Enqueue(broker);
            Interlocked.Increment(ref _accepted);
            _ = PumpAsync(client, broker, toBroker: true);
            _ = PumpAsync(broker, client, toBroker: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool toBroker)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                // Held here while frozen; after a reset the send below fails and the bytes are gone.
                await (toBroker ? _toBroker : _toClient).Task;
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            from.Dispose();
            to.Dispose();
        }
    }

    private static TaskCompletionSource Thawed()
    {
        var thawed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        thawed.SetResult();
        return thawed;
    }
}
