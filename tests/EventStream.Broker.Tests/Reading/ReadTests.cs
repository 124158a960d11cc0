using EventStream.Broker.Tests.Broker;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Reading;

/// <summary>The group-less Read RPC against a broker process: validation, start points, follow, message bounds.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ReadTests(BrokerFixture broker)
{
    public static TheoryData<string, string> BadRequests => new()
    {
        // case, field named in the message
        { "bad topic name", "topic" },
        { "unknown start kind", "start.kind" },
        { "time start without a time", "start.time" },
        { "time with a latest start", "start.time" },
        { "negative max_events", "max_events" },
        { "shard past the cluster", "shards" },
        { "negative shard", "shards" },
        { "position on a shard past the cluster", "after.shard" },
        { "negative position", "after.event_id" },
        { "a shard's position twice", "after" },
        { "unknown payload format", "payload_format" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_field_is_invalid_argument_naming_it(string name, string field)
    {
        var topic = await CreateTopicAsync(broker.Process.Channel);
        var request = new ReadRequest { Topic = topic };
        switch (name)
        {
            case "bad topic name": request.Topic = "no/slashes"; break;
            case "unknown start kind": request.Start = new StartPoint { Kind = (StartPoint.Types.Kind)7 }; break;
            case "time start without a time": request.Start = new StartPoint { Kind = StartPoint.Types.Kind.Time }; break;
            case "time with a latest start": request.Start = new StartPoint { Time = Timestamp.FromDateTime(DateTime.UtcNow) }; break;
            case "negative max_events": request.MaxEvents = -1; break;
            case "shard past the cluster": request.Shards.Add(32); break;
            case "negative shard": request.Shards.Add(-1); break;
            case "position on a shard past the cluster": request.After.Add(new ShardOffset { Shard = 40 }); break;
            case "negative position": request.After.Add(new ShardOffset { Shard = 1, EventId = -5 }); break;
            case "a shard's position twice": request.After.Add([new ShardOffset { Shard = 2 }, new ShardOffset { Shard = 2, EventId = 9 }]); break;
            case "unknown payload format": request.PayloadFormat = (PayloadFormat)9; break;
        }
        var failure = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(broker.Process.Channel, request));
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        Assert.Contains(field, failure.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_topic_is_not_found()
    {
        var failure = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(broker.Process.Channel, new ReadRequest { Topic = UniqueTopic() }));
        Assert.Equal(StatusCode.NotFound, failure.StatusCode);
    }

    [Fact]
    public async Task Positions_shards_and_a_count_choose_what_is_read()
    {
        var channel = broker.Process.Channel;
        var topic = await CreateTopicAsync(channel);
        var producer = new Producer.ProducerClient(channel);
        var stored = (await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, 300).Select(i => Event($"k{i % 10}", $"e{i}"))))).Deliveries();
        var shards = stored.Select(d => d.Shard).Distinct().Order().ToArray();
        var (one, other) = (shards[0], shards[1]);
        var middle = stored.Where(d => d.Shard == one).Select(d => d.EventId).Order().ElementAt(5);

        // Shard `one` after a position, shard `other` from the start (earliest), nothing else.
        var request = new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, Shards = { one, other }, After = { new ShardOffset { Shard = one, EventId = middle } } };
        var read = await ReadAllAsync(channel, request);
        var expected = stored.Where(d => (d.Shard == one && d.EventId > middle) || d.Shard == other).Select(d => d.EventId).Order();
        Assert.Equal(expected, read.Select(e => e.EventId));

        // A latest start reads only the shards given positions.
        var latest = await ReadAllAsync(channel, new ReadRequest { Topic = topic, After = { new ShardOffset { Shard = one, EventId = middle } } });
        Assert.Equal(stored.Where(d => d.Shard == one && d.EventId > middle).Select(d => d.EventId).Order(), latest.Select(e => e.EventId));

        var counted = await ReadAllAsync(channel, new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, MaxEvents = 7, PayloadFormat = PayloadFormat.Text });
        Assert.Equal(stored.Select(d => d.EventId).Order().Take(7), counted.Select(e => e.EventId));
        Assert.All(counted, e => Assert.StartsWith("e", e.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Following_gets_every_event_produced_meanwhile_exactly_once()
    {
        var channel = broker.Process.Channel;
        var topic = await CreateTopicAsync(channel);
        var producer = new Producer.ProducerClient(channel);
        const int Producers = 4, Batches = 25, PerBatch = 40;
        await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, PerBatch).Select(i => Event(null, "before"))));
        var total = PerBatch * (1 + Producers * Batches);

        var reading = ReadAllAsync(channel, new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, Follow = true, MaxEvents = total });
        // Producers with their own ids land on different writers, whose transactions commit in any order.
        var producing = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < Batches; b++)
            {
                await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, PerBatch).Select(i => Event($"p{p}", $"{p}-{b}-{i}")), $"read-test-{p}-{topic}", b * PerBatch));
            }
        }));
        await Task.WhenAll(producing);
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(total, read.Count);
        Assert.Equal(total, read.Select(e => e.EventId).Distinct().Count());
        foreach (var p in Enumerable.Range(0, Producers))
        {
            // Per key, in the order produced.
            var ids = read.Where(e => e.Key.ToStringUtf8() == $"p{p}").Select(e => e.EventId).ToList();
            Assert.Equal(Batches * PerBatch, ids.Count);
            Assert.Equal(ids.Order(), ids);
        }
    }

    [Fact]
    public async Task Messages_stay_under_the_send_limit()
    {
        var channel = broker.Process.Channel;
        var topic = await CreateTopicAsync(channel);
        var producer = new Producer.ProducerClient(channel);
        var payload = new string('x', 300 * 1024);
        for (var i = 0; i < 4; i++)
        {
            await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, 8).Select(_ => Event("big", payload))));
        }

        using var call = new Reader.ReaderClient(channel).Read(new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest } });
        var sizes = new List<int>();
        var events = 0;
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            sizes.Add(message.CalculateSize());
            events += message.Events.Count;
        }
        Assert.Equal(32, events);
        Assert.True(sizes.Count >= 3, $"{sizes.Count} messages");
        Assert.All(sizes, size => Assert.True(size <= 4 * 1024 * 1024, $"{size} bytes"));
    }

    [Fact]
    public async Task A_read_creates_no_slot_and_no_group()
    {
        var topic = await CreateTopicAsync(broker.Process.Channel);
        await new Producer.ProducerClient(broker.Process.Channel).ProduceAsync(Batch(topic, [Event("k", "v")]));
        await using var count = broker.Database.CreateCommand("SELECT (SELECT count(*) FROM pg_replication_slots) * 1000 + (SELECT count(*) FROM eventstream.consumer_groups)");
        var before = (long)(await count.ExecuteScalarAsync())!;

        using var follow = new CancellationTokenSource();
        var call = new Reader.ReaderClient(broker.Process.Channel).Read(new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, Follow = true }, cancellationToken: follow.Token);
        Assert.True(await call.ResponseStream.MoveNext(follow.Token));
        Assert.Equal(before, (long)(await count.ExecuteScalarAsync())!);
        follow.Cancel();
        call.Dispose();
        Assert.Equal(before, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_follower_ends_unavailable_when_the_notification_channel_is_lost_and_the_next_one_follows_again()
    {
        var channel = broker.Process.Channel;
        var topic = await CreateTopicAsync(channel);
        var producer = new Producer.ProducerClient(channel);
        await producer.ProduceAsync(Batch(topic, [Event("k", "first")]));
        using var call = new Reader.ReaderClient(channel).Read(new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Earliest }, Follow = true });
        Assert.True(await call.ResponseStream.MoveNext());

        await using (var terminate = broker.Database.CreateCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN eventstream_commits%'"))
        {
            Assert.Equal(1L, await terminate.ExecuteScalarAsync());
        }
        var failure = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("read again", failure.Status.Detail, StringComparison.Ordinal);

        var reading = ReadAllAsync(channel, new ReadRequest { Topic = topic, Start = new StartPoint { Kind = StartPoint.Types.Kind.Latest }, Follow = true, MaxEvents = 1, PayloadFormat = PayloadFormat.Text });
        // The follower listens before its call answers anything; produce until it has seen an event stored after it began.
        while (!reading.IsCompleted)
        {
            await producer.ProduceAsync(Batch(topic, [Event("k", "again")]));
            await Task.WhenAny(reading, Task.Delay(100));
        }
        Assert.Equal("again", Assert.Single(await reading).Text);
    }

    internal static async Task<List<Event>> ReadAllAsync(GrpcChannel channel, ReadRequest request)
    {
        using var call = new Reader.ReaderClient(channel).Read(request, deadline: DateTime.UtcNow.AddSeconds(60));
        var events = new List<Event>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            events.AddRange(message.Events);
        }
        return events;
    }
}
