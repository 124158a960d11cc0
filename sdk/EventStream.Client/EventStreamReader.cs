using System.Runtime.CompilerServices;
using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace EventStream.Client;

/// <summary>
/// Reads a topic without a consumer group (the broker's Reader service): no member, no lease, no
/// commit, no replication slot. For tools and debugging; events come in event id order (per key, the
/// order produced), and nothing is remembered between reads: pass the last event ids received
/// (<see cref="ReadOptions.After"/>) to continue.
/// </summary>
/// <example>
/// <code>
/// await using var reader = new EventStreamReader(new EventStreamReaderOptions { Address = "http://127.0.0.1:7400" });
/// await foreach (var e in reader.ReadAsync("orders", new ReadOptions { MaxEvents = 10 }, cancellationToken))
/// {
///     Console.WriteLine(e.GetPayloadString());
/// }
/// </code>
/// </example>
public sealed class EventStreamReader : IAsyncDisposable
{
    private readonly BrokerChannel _channel;
    private readonly Reader.ReaderClient _client;

    /// <summary>Creates a reader; it connects on the first read.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public EventStreamReader(EventStreamReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Clone();
        copy.Transport.Validate();
        _channel = new OptionsConnector(copy.Transport).Connect();
        _client = new Reader.ReaderClient(_channel.Invoker);
    }

    /// <summary>
    /// The topic's events as <paramref name="options"/> say. Without <see cref="ReadOptions.Follow"/> the
    /// enumeration ends after the events stored when it began; with it, it ends when cancelled
    /// (<see cref="OperationCanceledException"/>) or when the broker ends the read (an
    /// <see cref="EventStreamException"/>; read again after the last event received).
    /// </summary>
    /// <exception cref="EventStreamException">The broker refused or ended the read (e.g. <see cref="EventStreamErrorReason.TopicNotFound"/>).</exception>
    public IAsyncEnumerable<ConsumedEvent> ReadAsync(string topic, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        options ??= new ReadOptions();
        if (options.MaxEvents is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ReadOptions.MaxEvents must be positive when set.");
        }
        return ReadEventsAsync(ToRequest(topic, options), cancellationToken);
    }

    /// <summary>Disposes the channel the reader created (not one passed in the options).</summary>
    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private async IAsyncEnumerable<ConsumedEvent> ReadEventsAsync(ReadRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = _client.Read(request, cancellationToken: cancellationToken);
        var responses = call.ResponseStream;
        while (true)
        {
            try
            {
                if (!await responses.MoveNext(cancellationToken))
                {
                    yield break;
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (RpcException e)
            {
                throw EventStreamException.FromGrpc(e, $"Reading topic '{request.Topic}'");
            }
            foreach (var message in responses.Current.Events)
            {
                yield return new ConsumedEvent(message, leaseEpoch: 0);
            }
        }
    }

    private static ReadRequest ToRequest(string topic, ReadOptions options)
    {
        var request = new ReadRequest
        {
            Topic = topic,
            Start = options.Start.Kind switch
            {
                StartPositionKind.Earliest => new StartPoint { Kind = StartPoint.Types.Kind.Earliest },
                StartPositionKind.FromTime => new StartPoint { Kind = StartPoint.Types.Kind.Time, Time = Timestamp.FromDateTimeOffset(options.Start.Time!.Value) },
                _ => new StartPoint { Kind = StartPoint.Types.Kind.Latest },
            },
            MaxEvents = options.MaxEvents ?? 0,
            Follow = options.Follow,
            PayloadFormat = PayloadFormat.Binary,
        };
        request.Shards.Add(options.Shards);
        foreach (var (shard, eventId) in options.After)
        {
            request.After.Add(new ShardOffset { Shard = shard, EventId = eventId });
        }
        return request;
    }
}
