namespace EventStream.Client.Tests.Fakes;

/// <summary>An HTTP handler that counts the requests it sends and notes whether it was disposed.</summary>
public sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    public bool IsDisposed { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return base.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        base.Dispose(disposing);
    }
}
