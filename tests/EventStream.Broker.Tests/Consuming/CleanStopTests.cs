using System.Collections.Concurrent;
using System.Diagnostics;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using Grpc.Health.V1;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>A broker stopped with SIGTERM while members and producers are connected to it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanStopTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Sigterm_with_sessions_and_producers_open_stops_within_two_seconds_and_another_broker_takes_over_losing_nothing()
    {
        // A lease far longer than the test: only its release lets the second broker in at once.
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromMinutes(5));
        var a = await cluster.StartBrokerAsync();
        var b = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(a.Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var members = new List<SubscribeSession>();
        for (var i = 0; i < 3; i++)
        {
            members.Add(await SubscribeSession.JoinAsync(a.Channel, Subscription(group, [topic], session: Session)));
        }
        await Wait.UntilAsync(() => members.Sum(m => m.Shards.Count) == 32 && members.All(m => m.Shards.Count >= 10), "the members share the shards");

        // Two producers keep sending to the first broker, then to the second once it is gone; a
        // third streams its batches, as the SDK does.
        var acknowledged = new ConcurrentBag<string>();
        using var stopProducing = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() => ProduceUntilAsync(p, [a, b], topic, acknowledged, stopProducing.Token))).ToList();
        var streaming = Task.Run(() => StreamUntilEndedAsync(a, topic, acknowledged));
        await Wait.UntilAsync(() => members.Sum(m => m.Received.Count) >= 200, "the members receive events");
        // A health watch, as load balancers keep open, does not hold the stop either.
        using var watch = new Grpc.Health.V1.Health.HealthClient(a.Channel).Watch(new HealthCheckRequest());
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);

        var stopping = Stopwatch.StartNew();
        await a.StopAsync(TimeSpan.FromSeconds(60));
        var stopped = stopping.Elapsed;
        Assert.True(stopped <= TimeSpan.FromSeconds(2), $"The broker took {stopped.TotalSeconds:F1} s to stop.\n{a.Output}");
        // The stream's batches under way were answered before it ended, and it ended with UNAVAILABLE.
        Assert.Equal(StatusCode.Unavailable, await streaming);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext())).StatusCode);
        foreach (var member in members)
        {
            await Wait.UntilAsync(() => member.Failure is not null, "the session ended");
            Assert.Equal(StatusCode.Unavailable, Assert.IsType<RpcException>(member.Failure).StatusCode);
        }

        // The group runs on the second broker at once: no redirect to the stopped one.
        var joining = Stopwatch.StartNew();
        var successors = new List<SubscribeSession>();
        for (var i = 0; i < 3; i++)
        {
            successors.Add(await SubscribeSession.JoinAsync(b.Channel, Subscription(group, [topic], session: Session)));
        }
        Assert.True(joining.Elapsed <= TimeSpan.FromSeconds(2), $"Joining on the second broker took {joining.Elapsed.TotalSeconds:F1} s.");

        await Wait.UntilAsync(() => acknowledged.Count >= 200 + Received(members).Count, "the producers go on through the second broker");
        await stopProducing.CancelAsync();
        await Task.WhenAll(producers);
        // Nothing was committed: the successors get every acknowledged event again, in key order per shard.
        await Wait.UntilAsync(() => acknowledged.All(Received(successors).Contains), "every acknowledged event is delivered", TimeSpan.FromSeconds(60));
        foreach (var member in members.Concat(successors))
        {
            await member.DisposeAsync();
        }
    }

    private static async Task ProduceUntilAsync(int producer, BrokerProcess[] brokers, string topic, ConcurrentBag<string> acknowledged, CancellationToken stop)
    {
        var target = 0;
        for (var batch = 0; !stop.IsCancellationRequested; batch++)
        {
            var payloads = Enumerable.Range(0, 10).Select(i => $"p{producer}-{batch}-{i}").ToList();
            try
            {
                await new Producer.ProducerClient(brokers[target].Channel).ProduceAsync(
                    Batch(topic, payloads.Select(p => Event("k" + (p.GetHashCode() % 16), p))), cancellationToken: CancellationToken.None).ResponseAsync;
                foreach (var payload in payloads)
                {
                    acknowledged.Add(payload);
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                // The first broker stopping (or gone): nothing of the batch was acknowledged.
                target = brokers.Length - 1;
            }
            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>Streams batches to a broker until it ends the stream; returns the status it ended with.</summary>
    private static async Task<StatusCode> StreamUntilEndedAsync(BrokerProcess broker, string topic, ConcurrentBag<string> acknowledged)
    {
        using var call = new Producer.ProducerClient(broker.Channel).ProduceStream();
        var sent = new ConcurrentDictionary<long, List<string>>();
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var answer in call.ResponseStream.ReadAllAsync())
                {
                    if (answer.ResultCase == ProduceStreamResponse.ResultOneofCase.Response && sent.TryRemove(answer.RequestId, out var payloads))
                    {
                        payloads.ForEach(acknowledged.Add);
                    }
                }
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        });
        try
        {
            for (var request = 0L; !reading.IsCompleted; request++)
            {
                var payloads = Enumerable.Range(0, 10).Select(i => $"s-{request}-{i}").ToList();
                sent[request] = payloads;
                await call.RequestStream.WriteAsync(new ProduceStreamRequest
                {
                    RequestId = request,
                    Batch = Batch(topic, payloads.Select(p => Event("k" + (p.GetHashCode() % 16), p))),
                });
                await Task.Delay(10);
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // The call ended while writing.
        }
        return await reading;
    }

    private static HashSet<string> Received(IEnumerable<SubscribeSession> members) =>
        members.SelectMany(m => m.Received).Select(r => r.Event.Data.ToStringUtf8()).ToHashSet();
}
