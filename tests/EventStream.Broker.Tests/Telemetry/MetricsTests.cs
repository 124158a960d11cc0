// Owns the acceptance tests of the broker's metrics: counts, lag and slot WAL read from a real scrape.
using EventStream.Broker.Tests.Consuming;
using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Net.Client;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Telemetry;

/// <summary>
/// Broker processes with a Prometheus endpoint, scraped over HTTP/1.1 as Prometheus does, after
/// producing and consuming known numbers of events; lag read through DescribeGroup and the
/// metrics of every broker sharing the database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MetricsTests(PostgresFixture fixture)
{
    private const string Lag = "eventstream_group_lag";

    [Fact]
    public async Task A_scrape_counts_produced_and_consumed_events_and_lag_returns_to_zero_after_commits()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var (broker, scrape) = await StartScrapedBrokerAsync(cluster);
        using var _ = scrape;
        var topic = await CreateTopicAsync(broker.Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var idle = "idle-" + Guid.NewGuid().ToString("N");
        var subscription = Subscription(group, [topic]);
        // Both groups exist (and so do their slots) before the events are produced.
        subscription.MemberId = (await PollAsync(broker.Channel, subscription)).MemberId;
        await PollAsync(broker.Channel, Subscription(idle, [topic]));

        var producer = new Producer.ProducerClient(broker.Channel);
        for (var batch = 0; batch < 5; batch++)
        {
            await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, 50).Select(i => Event("k" + i, new string('x', 500))))).ResponseAsync;
        }

        // A batch for a topic that does not exist is refused, counted by its status.
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => producer.ProduceAsync(Batch("missing-" + Guid.NewGuid().ToString("N"), [Event("k", "v")])).ResponseAsync);

        await WaitForSampleAsync(scrape, Lag, 250, "the group's lag is 250 before it consumes", ("messaging_consumer_group_name", group));
        var consumed = await PollUntilAsync(broker.Channel, subscription, 250, TimeSpan.FromSeconds(60));
        Assert.Equal(250, consumed.Count);
        await WaitForSampleAsync(scrape, Lag, 0, "the group's lag is 0 after its commits", ("messaging_consumer_group_name", group));

        var samples = await scrape.ReadAsync();
        var ofTopic = ("messaging_destination_name", topic);
        Assert.Equal(250, PrometheusScrape.Sum(samples, "messaging_client_sent_messages_total", ofTopic));
        Assert.Equal(5, PrometheusScrape.Sum(samples, "eventstream_produce_batches_total", ofTopic));
        Assert.True(PrometheusScrape.Sum(samples, "eventstream_produce_bytes_total", ofTopic) >= 250 * 500);
        Assert.Equal(5, PrometheusScrape.Sum(samples, "eventstream_produce_ack_duration_seconds_count", ofTopic));
        Assert.Equal(250, PrometheusScrape.Sum(samples, "messaging_client_consumed_messages_total", ofTopic, ("messaging_consumer_group_name", group)));
        Assert.Equal(250, PrometheusScrape.Sum(samples, "eventstream_consume_committed_total", ofTopic, ("messaging_consumer_group_name", group)));
        Assert.Equal(250, PrometheusScrape.Sum(samples, "eventstream_delivery_duration_seconds_count", ofTopic, ("messaging_consumer_group_name", group)));
        Assert.Equal(32, samples.Count(s => s.Name == Lag && s.Labels.GetValueOrDefault("messaging_consumer_group_name") == group));
        Assert.Equal(1, PrometheusScrape.Sum(samples, "eventstream_group_members", ("messaging_consumer_group_name", group)));
        Assert.True(PrometheusScrape.Sum(samples, "eventstream_group_lease_changes_total", ("messaging_consumer_group_name", group)) >= 32);
        Assert.True(PrometheusScrape.Sum(samples, "eventstream_group_coordinator_changes_total", ("messaging_consumer_group_name", group)) >= 1);
        Assert.True(PrometheusScrape.Sum(samples, "eventstream_produce_rejected_batches_total", ("error_type", "NotFound")) >= 1);
        Assert.Equal(0, PrometheusScrape.Sum(samples, "eventstream_consume_redelivered_total", ofTopic) ?? 0);
        Assert.Equal(1, PrometheusScrape.Sum(samples, "eventstream_health_serving"));
        // The framework's own instruments: gRPC calls served, database commands.
        Assert.True(PrometheusScrape.Sum(samples, "http_server_request_duration_seconds_count") > 0);
        Assert.True(PrometheusScrape.Sum(samples, "db_client_operation_duration_seconds_count") > 0);

        // The group that stopped consuming holds the WAL of everything produced since it began.
        await WaitForAsync(scrape, s => PrometheusScrape.Sum(s, "eventstream_slot_wal_retained_bytes", ("messaging_consumer_group_name", idle)) > 250 * 500,
            "the idle group's slot retains the WAL of the events produced");
        var idleSamples = await scrape.ReadAsync();
        var ofIdle = ("messaging_consumer_group_name", idle);
        Assert.Equal(250, PrometheusScrape.Sum(idleSamples, Lag, ofIdle));
        Assert.True(PrometheusScrape.Sum(idleSamples, "eventstream_group_lag_bytes", ofIdle) >= 250 * 500);
        Assert.NotNull(PrometheusScrape.Sum(idleSamples, "eventstream_slot_active", ofIdle));
        Assert.Equal(0, PrometheusScrape.Sum(idleSamples, "eventstream_slot_invalidated", ofIdle));
    }

    [Fact]
    public async Task A_stopped_group_shows_the_same_lag_on_every_broker_through_DescribeGroup_and_metrics()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var (first, firstScrape) = await StartScrapedBrokerAsync(cluster);
        var (second, secondScrape) = await StartScrapedBrokerAsync(cluster);
        using var _ = firstScrape;
        using var __ = secondScrape;
        var topic = await CreateTopicAsync(first.Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        var joined = await PollAsync(first.Channel, Subscription(group, [topic]));
        await new Consumer.ConsumerClient(first.Channel).LeaveAsync(new LeaveRequest { Group = group, MemberId = joined.MemberId }).ResponseAsync;

        var producer = new Producer.ProducerClient(second.Channel);
        for (var batch = 0; batch < 10; batch++)
        {
            await producer.ProduceAsync(Batch(topic, Enumerable.Range(0, 1000).Select(i => Event("key-" + i, "event " + i)))).ResponseAsync;
        }

        foreach (var broker in new[] { first, second })
        {
            var description = await new Admin.AdminClient(broker.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group }).ResponseAsync;
            Assert.Equal(10_000, description.Shards.Sum(s => s.LagEvents));
            Assert.True(description.Shards.Sum(s => s.LagBytes) >= 10_000 * "event 0".Length);
            Assert.All(description.Shards.Where(s => s.LagEvents > 0), s => Assert.NotNull(s.OldestUncommittedEventTime));
            Assert.All(description.Shards.Where(s => s.LagEvents == 0), s => Assert.Null(s.OldestUncommittedEventTime));
        }
        foreach (var scrape in new[] { firstScrape, secondScrape })
        {
            await WaitForSampleAsync(scrape, Lag, 10_000, "the broker's metrics show lag 10,000", ("messaging_consumer_group_name", group));
            Assert.True(PrometheusScrape.Sum(await scrape.ReadAsync(), "eventstream_group_lag_age_seconds", ("messaging_consumer_group_name", group)) > 0);
        }
    }

    [Fact]
    public async Task DescribeTopic_gives_the_oldest_and_newest_event_times()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var broker = await cluster.StartBrokerAsync();
        var topic = await CreateTopicAsync(broker.Channel);
        var admin = new Admin.AdminClient(broker.Channel);
        var empty = await admin.DescribeTopicAsync(new DescribeTopicRequest { Name = topic }).ResponseAsync;
        Assert.Null(empty.OldestEventTime);
        Assert.Null(empty.NewestEventTime);

        var producer = new Producer.ProducerClient(broker.Channel);
        var first = await producer.ProduceAsync(Batch(topic, [Event("a", "first")])).ResponseAsync;
        var last = await producer.ProduceAsync(Batch(topic, [Event("b", "last")])).ResponseAsync;

        var described = await admin.DescribeTopicAsync(new DescribeTopicRequest { Name = topic }).ResponseAsync;
        // PostgreSQL keeps microseconds.
        Assert.Equal(Microseconds(first.IngestTime), described.OldestEventTime.ToDateTime());
        Assert.Equal(Microseconds(last.IngestTime), described.NewestEventTime.ToDateTime());
    }

    [Fact]
    public async Task With_metrics_off_the_broker_serves_no_scrape_endpoint_and_still_reports_lag()
    {
        await using var cluster = await SharedDatabase.CreateAsync(fixture, TimeSpan.FromSeconds(10));
        var metricsPort = BrokerProcess.FreePort();
        var broker = await cluster.StartBrokerAsync(new Dictionary<string, string>
        {
            ["EventStream__Telemetry__Metrics"] = "false",
            ["EventStream__Telemetry__PrometheusUrl"] = $"http://127.0.0.1:{metricsPort}",
        });
        var topic = await CreateTopicAsync(broker.Channel);
        var group = "g-" + Guid.NewGuid().ToString("N");
        await PollAsync(broker.Channel, Subscription(group, [topic]));
        await new Producer.ProducerClient(broker.Channel).ProduceAsync(Batch(topic, [Event("k", "v")])).ResponseAsync;

        using var scrape = new PrometheusScrape($"http://127.0.0.1:{metricsPort}/metrics");
        await Assert.ThrowsAsync<HttpRequestException>(scrape.ReadAsync);
        var description = await new Admin.AdminClient(broker.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group }).ResponseAsync;
        Assert.Equal(1, description.Shards.Sum(s => s.LagEvents));
    }

    private static async Task<(BrokerProcess Broker, PrometheusScrape Scrape)> StartScrapedBrokerAsync(SharedDatabase cluster)
    {
        var metricsPort = BrokerProcess.FreePort();
        var broker = await cluster.StartBrokerAsync(new Dictionary<string, string>
        {
            ["EventStream__Telemetry__PrometheusUrl"] = $"http://127.0.0.1:{metricsPort}",
            ["EventStream__Telemetry__LagInterval"] = "00:00:00.500",
        });
        return (broker, new PrometheusScrape($"http://127.0.0.1:{metricsPort}/metrics"));
    }

    private static DateTime Microseconds(Google.Protobuf.WellKnownTypes.Timestamp time)
    {
        var value = time.ToDateTime();
        return value.AddTicks(-(value.Ticks % TimeSpan.TicksPerMicrosecond));
    }

    private static Task<PollResponse> PollAsync(GrpcChannel channel, Subscription subscription) =>
        new Consumer.ConsumerClient(channel).PollAsync(new PollRequest { Subscription = subscription }).ResponseAsync;

    private static Task WaitForSampleAsync(PrometheusScrape scrape, string name, double expected, string what, params (string Name, string Value)[] labels) =>
        WaitForAsync(scrape, samples => PrometheusScrape.Sum(samples, name, labels) == expected, what);

    private static Task WaitForAsync(PrometheusScrape scrape, Func<List<MetricSample>, bool> condition, string what) =>
        Wait.UntilAsync(async () => condition(await scrape.ReadAsync()), what, TimeSpan.FromSeconds(60));
}
