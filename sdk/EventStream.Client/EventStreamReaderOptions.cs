using EventStream.Client.Transport;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace EventStream.Client;

/// <summary>Settings of an <see cref="EventStreamReader"/>: only where the broker is and how to call it.</summary>
/// <remarks>
/// <see cref="HttpHandler"/> must not be combined with <see cref="Channel"/>, nor with a handler or
/// HttpClient in <see cref="ChannelOptions"/>. The reader copies the options when it is created.
/// </remarks>
public sealed class EventStreamReaderOptions
{
    /// <summary>The broker's address, <c>http://</c> or <c>https://</c>. Default <c>http://127.0.0.1:7400</c>. Ignored when <see cref="Channel"/> is set.</summary>
    public string Address { get; set; } = "http://127.0.0.1:7400";

    /// <summary>A channel of your own to read through; the reader does not dispose it. Default null: the reader creates one.</summary>
    public GrpcChannel? Channel { get; set; }

    /// <summary>Options of the channel the reader creates (message size limits, compression...). Default null.</summary>
    public GrpcChannelOptions? ChannelOptions { get; set; }

    /// <summary>The HTTP handler the reader's channel sends through; not disposed by the reader. Default null.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Interceptors applied to every call, the first in the list outermost. Default empty.</summary>
    public IList<Interceptor> Interceptors { get; set; } = new List<Interceptor>();

    /// <summary>
    /// Credentials for a broker with authentication on (an API key, a password, a token provider or a
    /// client certificate; see <see cref="EventStreamCredentials"/>). Default null: none are sent.
    /// </summary>
    public EventStreamCredentials? Credentials { get; set; }

    internal TransportSettings Transport => new(nameof(EventStreamReaderOptions), Address, Channel, ChannelOptions, HttpHandler, Interceptors, Credentials);

    internal EventStreamReaderOptions Clone()
    {
        var clone = (EventStreamReaderOptions)MemberwiseClone();
        clone.Interceptors = Interceptors is null ? null! : new List<Interceptor>(Interceptors);
        return clone;
    }
}

/// <summary>What one <see cref="EventStreamReader.ReadAsync"/> reads of a topic.</summary>
public sealed record ReadOptions
{
    /// <summary>
    /// Where to start: <see cref="StartPosition.Earliest"/> (the default) every event still retained,
    /// <see cref="StartPosition.Latest"/> nothing stored before the read, or a time.
    /// </summary>
    public StartPosition Start { get; init; } = StartPosition.Earliest;

    /// <summary>Per shard, the event id to start after (e.g. the last one a previous read received); these shards ignore <see cref="Start"/>.</summary>
    public IReadOnlyDictionary<int, long> After { get; init; } = new Dictionary<int, long>();

    /// <summary>Only these shards; empty for all.</summary>
    public IReadOnlyCollection<int> Shards { get; init; } = [];

    /// <summary>Stop after this many events; null for no limit.</summary>
    public long? MaxEvents { get; init; }

    /// <summary>After the stored events, wait for new ones and return them as they are stored, until cancelled.</summary>
    public bool Follow { get; init; }
}
