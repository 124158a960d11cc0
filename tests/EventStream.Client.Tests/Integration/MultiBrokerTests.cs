using System.Collections.Concurrent;
using System.Diagnostics;
using EventStream.Protocol;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace EventStream.Client.Tests.Integration;

/// <summary>
/// Consumers on two brokers sharing one database: members follow the broker that runs their group, and
/// when that broker is killed the group moves to the other one with nothing acknowledged lost.
/// </summary>
public sealed class MultiBrokerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Consumer_configured_with_a_broker_that_does_not_run_the_group_consumes_through_the_one_that_does()
    {
        await using var brokers = await TwoBrokers.StartAsync();
        var topic = await CreateTopicAsync(brokers);
        var group = "g-" + Guid.NewGuid().ToString("N");
        using var logging = new RecordingLogging(output);
        await using var first = new BackgroundConsumer(new EventStreamConsumer(TwoBrokers.ConsumerOptions(brokers.A, group, topic), logging.Factory("first")));
        await Wait.UntilAsync(() => first.Consumer.Assignment.Count == 32, "the first member holds every shard", TimeSpan.FromSeconds(60));
        Assert.Equal(brokers.A.Address, await brokers.CoordinatorOfAsync(group));

        // What the second member is told by B, on the raw contract.
        var redirect = await JoinRawAsync(brokers.B, group, topic);
        Assert.Equal(StatusCode.Unavailable, redirect.StatusCode);
        Assert.Contains(brokers.A.Address, redirect.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(brokers.A.Address, redirect.Trailers.GetValue(CoordinatorRedirect.MetadataKey));

        await using var second = new BackgroundConsumer(new EventStreamConsumer(TwoBrokers.ConsumerOptions(brokers.B, group, topic), logging.Factory("second")));
        await Wait.UntilAsync(() => first.Consumer.Assignment.Count == 16 && second.Consumer.Assignment.Count == 16, "each member holds half", TimeSpan.FromSeconds(60));
        Assert.Contains(logging.Entries, e => e.Name == "second" && e.EventId == 113 && e.Message.Contains(brokers.A.Address, StringComparison.Ordinal));

        await using (var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = brokers.B.Address, Linger = TimeSpan.FromMilliseconds(2) }))
        {
            var produced = await Keyed.ProduceAsync(producer, topic, Keyed.Keys(50), perKey: 20);
            await Wait.UntilAsync(() => first.Received.Count + second.Received.Count >= produced.Count, "every event was consumed");
            Assert.Equal(produced.Select(d => d.EventId).Order(), first.Received.Concat(second.Received).Select(e => e.EventId).Order());
        }
        Assert.NotEmpty(first.Received);
        Assert.NotEmpty(second.Received);
        Keyed.AssertOrderedPerKey(first.Received);
        Keyed.AssertOrderedPerKey(second.Received);
        Assert.Null(first.Failure);
        Assert.Null(second.Failure);
        Assert.Equal(brokers.A.Address, await brokers.CoordinatorOfAsync(group));
    }

    [Fact]
    public async Task Killed_coordinator_broker_hands_the_group_to_the_other_broker_and_every_acknowledged_event_is_consumed()
    {
        const int Keys = 200;
        const int PerKey = 100;
        var clock = Stopwatch.StartNew();
        await using var brokers = await TwoBrokers.StartAsync();
        var topic = await CreateTopicAsync(brokers);
        var group = "g-" + Guid.NewGuid().ToString("N");
        using var logging = new RecordingLogging(output, LogLevel.Information);

        // B runs the group: its first member joins there. The members configured with A are sent to B.
        var members = new List<BackgroundConsumer>
        {
            new(new EventStreamConsumer(TwoBrokers.ConsumerOptions(brokers.B, group, topic), logging.Factory("b-1"))),
        };
        await Wait.UntilAsync(() => members[0].Consumer.Assignment.Count == 32, "the first member holds every shard", TimeSpan.FromSeconds(60));
        members.Add(new(new EventStreamConsumer(TwoBrokers.ConsumerOptions(brokers.A, group, topic), logging.Factory("a-1"))));
        members.Add(new(new EventStreamConsumer(TwoBrokers.ConsumerOptions(brokers.A, group, topic), logging.Factory("a-2"))));
        try
        {
            await Wait.UntilAsync(() => members.All(m => m.Consumer.Assignment.Count > 0), "every member holds shards", TimeSpan.FromSeconds(60));
            Assert.Equal(brokers.B.Address, await brokers.CoordinatorOfAsync(group));
            output.WriteLine($"{clock.Elapsed}: members hold {string.Join(", ", members.Select(m => m.Consumer.Assignment.Count))} shards");

            await using var producer = new EventStreamProducer(new EventStreamProducerOptions { Address = brokers.A.Address, Linger = TimeSpan.FromMilliseconds(2) });
            // Spread over some seconds, so the kill comes while events are still being produced.
            var producing = Keyed.ProduceAsync(producer, topic, Keyed.Keys(Keys), PerKey, pause: TimeSpan.FromMilliseconds(50));
            await Wait.UntilAsync(() => members.Sum(m => m.Received.Count) >= Keys * PerKey * 3 / 10 || producing.IsCompleted,
                "a third of the events were consumed", TimeSpan.FromSeconds(60));
            Assert.False(producing.IsCompleted, "Production finished before the kill.");
            brokers.B.Kill();
            output.WriteLine($"{clock.Elapsed}: killed the coordinator broker after {members.Sum(m => m.Received.Count)} events");

            var acknowledged = (await producing).Select(d => d.EventId).ToHashSet();
            output.WriteLine($"{clock.Elapsed}: {acknowledged.Count} events acknowledged");
            await Wait.UntilAsync(() => acknowledged.IsSubsetOf(members.SelectMany(m => m.Received).Select(e => e.EventId)),
                "every acknowledged event was consumed", TimeSpan.FromSeconds(90));
            output.WriteLine($"{clock.Elapsed}: all consumed; members hold {string.Join(", ", members.Select(m => m.Consumer.Assignment.Count))} shards");

            Assert.Equal(brokers.A.Address, await brokers.CoordinatorOfAsync(group));
            Assert.All(members, m => Assert.Null(m.Failure));
            var all = members.SelectMany(m => m.Received).ToList();
            output.WriteLine($"{all.Count - all.Select(e => e.EventId).Distinct().Count()} events came more than once");
            foreach (var member in members)
            {
                AssertOrderedPerKeyExceptRedeliveries(member.Received.ToList());
            }
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Each key's sequence grows in what a member received; it may only start over with events received
    /// before (redelivered after the move, from the last committed position).
    /// </summary>
    private static void AssertOrderedPerKeyExceptRedeliveries(List<ConsumedEvent> received)
    {
        var seen = new HashSet<long>();
        var last = new Dictionary<string, long>();
        foreach (var e in received)
        {
            var (key, seq) = Keyed.Parse(e);
            var repeat = !seen.Add(e.EventId);
            if (last.TryGetValue(key, out var previous) && seq <= previous && !repeat)
            {
                Assert.Fail($"Key {key}: sequence {seq} (event {e.EventId}, first delivery) arrived after {previous}.");
            }
            last[key] = seq;
        }
    }

    private static async Task<string> CreateTopicAsync(TwoBrokers brokers)
    {
        var name = $"t-{Guid.NewGuid():N}";
        await new Admin.AdminClient(brokers.A.Channel).CreateTopicAsync(new CreateTopicRequest { Name = name });
        return name;
    }

    /// <summary>Joins on the raw Subscribe contract and returns how the broker refused.</summary>
    private static async Task<RpcException> JoinRawAsync(Testing.BrokerProcess broker, string group, string topic)
    {
        using var call = new EventStream.Protocol.V1.Consumer.ConsumerClient(broker.Channel).Subscribe();
        await call.RequestStream.WriteAsync(new SubscribeRequest
        {
            Join = new Subscription { Group = group, Topics = { topic }, SessionTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)) },
        });
        return await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
    }

    /// <summary>Keeps what consumers log (by consumer name) and shows it in the test output.</summary>
    private sealed class RecordingLogging(ITestOutputHelper output, LogLevel minimum = LogLevel.Debug) : IDisposable
    {
        private readonly ConcurrentQueue<Entry> _entries = new();
        private readonly List<ILoggerFactory> _factories = [];

        public IReadOnlyList<Entry> Entries => [.. _entries];

        public ILoggerFactory Factory(string name)
        {
            var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(minimum)
                .AddProvider(new TestOutputLogging(output))
                .AddProvider(new Provider(name, _entries)));
            _factories.Add(factory);
            return factory;
        }

        public void Dispose()
        {
            foreach (var factory in _factories)
            {
                factory.Dispose();
            }
        }

        public sealed record Entry(string Name, int EventId, string Message);

        private sealed class Provider(string name, ConcurrentQueue<Entry> entries) : ILoggerProvider, ILogger
        {
            public ILogger CreateLogger(string categoryName) => this;

            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(name, eventId.Id, formatter(state, exception)));

            public void Dispose()
            {
            }
        }
    }
}
