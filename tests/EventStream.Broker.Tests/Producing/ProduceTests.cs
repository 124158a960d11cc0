using EventStream.Broker.Tests.Broker;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.Sharding;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Npgsql;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Producing;

/// <summary>The produce path of a real broker process on its embedded PostgreSQL.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ProduceTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Every_acknowledged_event_is_stored_exactly_once()
    {
        var topic = await CreateTopicAsync(Channel);
        var response = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 500).Select(i => Event(i % 3 == 0 ? null : "k" + (i % 7), "p" + i)))).ResponseAsync;

        Assert.Equal(500, response.Deliveries().Count);
        var stored = await StoredAsync(broker.Database, topic);
        Assert.Equal(response.Deliveries().Select(d => d.EventId).Order(), stored.Select(s => s.EventId));
        for (var i = 0; i < 500; i++)
        {
            var row = stored.Single(s => s.EventId == response.Deliveries()[i].EventId);
            Assert.Equal("p" + i, row.Payload);
            Assert.Equal(response.Deliveries()[i].Shard, row.Shard);
        }
    }

    [Fact]
    public async Task Events_with_one_key_land_on_its_shard_in_produce_order()
    {
        var topic = await CreateTopicAsync(Channel);
        for (var i = 0; i < 20; i++)
        {
            await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("customer-42", "a" + i), Event("customer-7", "b" + i)])).ResponseAsync;
        }
        var stored = await StoredAsync(broker.Database, topic);
        var shardCount = await ShardCountAsync();

        var a = stored.Where(s => s.Payload.StartsWith('a')).ToList();
        Assert.All(a, s => Assert.Equal(ShardHash.ShardOf("customer-42", shardCount), s.Shard));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "a" + i), a.Select(s => s.Payload));
        var b = stored.Where(s => s.Payload.StartsWith('b')).ToList();
        Assert.All(b, s => Assert.Equal(ShardHash.ShardOf("customer-7", shardCount), s.Shard));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "b" + i), b.Select(s => s.Payload));
    }

    [Fact]
    public async Task Keyless_events_of_a_batch_share_a_shard()
    {
        var topic = await CreateTopicAsync(Channel);
        var response = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 50).Select(i => Event(null, "x" + i)))).ResponseAsync;
        Assert.Single(response.Deliveries().Select(d => d.Shard).Distinct());
    }

    [Fact]
    public async Task Retried_batch_whose_ack_was_lost_is_stored_once()
    {
        var topic = await CreateTopicAsync(Channel);
        var producer = Guid.NewGuid().ToString();
        var batch = Batch(topic, Enumerable.Range(0, 10).Select(i => Event("k" + i, "v" + i)), producer, firstSequence: 0);

        var first = await new Producer.ProducerClient(Channel).ProduceAsync(batch).ResponseAsync;
        var retry = await new Producer.ProducerClient(Channel).ProduceAsync(batch).ResponseAsync;

        Assert.All(first.Deliveries(), d => Assert.False(d.Duplicate));
        Assert.All(retry.Deliveries(), d => Assert.True(d.Duplicate));
        Assert.Equal(first.Deliveries().Select(d => (d.Shard, d.EventId, d.IngestTime)), retry.Deliveries().Select(d => (d.Shard, d.EventId, d.IngestTime)));
        Assert.Equal(10, (await StoredAsync(broker.Database, topic)).Count);

        var next = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event(null, "next")], producer, firstSequence: 10)).ResponseAsync;
        Assert.False(next.Deliveries()[0].Duplicate);
        Assert.Equal(11, (await StoredAsync(broker.Database, topic)).Count);
    }

    [Fact]
    public async Task Keyless_retry_lands_on_the_same_shard()
    {
        var topic = await CreateTopicAsync(Channel);
        var producer = Guid.NewGuid().ToString();
        var batch = Batch(topic, [Event(null, "a"), Event(null, "b")], producer, firstSequence: 0);
        var first = await new Producer.ProducerClient(Channel).ProduceAsync(batch).ResponseAsync;
        var retry = await new Producer.ProducerClient(Channel).ProduceAsync(batch).ResponseAsync;
        Assert.Equal(first.Deliveries().Select(d => d.Shard), retry.Deliveries().Select(d => d.Shard));
    }

    [Fact]
    public async Task Sequence_gap_is_aborted_and_stale_sequence_is_a_failed_precondition()
    {
        var topic = await CreateTopicAsync(Channel);
        var producer = Guid.NewGuid().ToString();
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event(null, "0")], producer, 0)).ResponseAsync;

        var gap = await Assert.ThrowsAsync<RpcException>(() => new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event(null, "5")], producer, 5)).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, gap.StatusCode);
        Assert.Contains("1 is next", gap.Status.Detail, StringComparison.Ordinal);

        var stale = await Assert.ThrowsAsync<RpcException>(() => new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event(null, "a"), Event(null, "b")], producer, 0)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
        Assert.Single(await StoredAsync(broker.Database, topic));
    }

    [Fact]
    public async Task Concurrent_small_requests_share_transactions()
    {
        var topic = await CreateTopicAsync(Channel);
        var requests = Enumerable.Range(0, 300).Select(i => new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("k" + i, "v" + i)])).ResponseAsync);
        await Task.WhenAll(requests);

        // A transaction stamps its rows with one ingest time (xmin would do on one node, not on Citus).
        await using var command = broker.Database.CreateCommand(
            "SELECT count(*), count(DISTINCT e.ingest_time) FROM eventstream.events e JOIN eventstream.topics t USING (topic_id) WHERE t.name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(300, reader.GetInt64(0));
        Assert.True(reader.GetInt64(1) < 150, $"300 requests took {reader.GetInt64(1)} transactions.");
    }

    [Fact]
    public async Task Produce_stream_answers_each_batch_by_request_id_and_survives_a_bad_one()
    {
        var topic = await CreateTopicAsync(Channel);
        using var call = new Producer.ProducerClient(Channel).ProduceStream();
        for (var i = 0; i < 20; i++)
        {
            var target = i == 7 ? "no-such-topic-" + Guid.NewGuid().ToString("N") : topic;
            await call.RequestStream.WriteAsync(new ProduceStreamRequest { RequestId = 100 + i, Batch = Batch(target, [Event("k", "v" + i)]) });
        }
        await call.RequestStream.CompleteAsync();
        var answers = new List<ProduceStreamResponse>();
        await foreach (var answer in call.ResponseStream.ReadAllAsync())
        {
            answers.Add(answer);
        }

        Assert.Equal(Enumerable.Range(100, 20).Select(i => (long)i), answers.Select(a => a.RequestId).Order());
        var failed = Assert.Single(answers, a => a.ResultCase == ProduceStreamResponse.ResultOneofCase.Error);
        Assert.Equal(107, failed.RequestId);
        Assert.Equal((int)StatusCode.NotFound, failed.Error.Code);
        Assert.Equal(19, (await StoredAsync(broker.Database, topic)).Count);
    }

    [Fact]
    public async Task A_producers_batches_in_flight_together_commit_in_sequence_order_across_transactions()
    {
        var topic = await CreateTopicAsync(Channel);
        var producer = Guid.NewGuid().ToString();
        const int Batches = 60;
        const int PerBatch = 400;
        using var call = new Producer.ProducerClient(Channel).ProduceStream();
        for (var b = 0; b < Batches; b++)
        {
            var events = Enumerable.Range(b * PerBatch, PerBatch).Select(i => Event("k" + (i % 5), i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)));
            await call.RequestStream.WriteAsync(new ProduceStreamRequest { RequestId = b, Batch = Batch(topic, events, producer, b * PerBatch) });
        }
        await call.RequestStream.CompleteAsync();
        var answers = new List<ProduceStreamResponse>();
        await foreach (var answer in call.ResponseStream.ReadAllAsync())
        {
            answers.Add(answer);
        }

        Assert.All(answers, a => Assert.Equal(ProduceStreamResponse.ResultOneofCase.Response, a.ResultCase));
        Assert.Equal(Batches, answers.Count);
        // Event ids follow sequence order, so by id every key's events are in produce order.
        var stored = await StoredAsync(broker.Database, topic);
        Assert.Equal(Enumerable.Range(0, Batches * PerBatch).Select(i => i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)), stored.Select(s => s.Payload));
        var byRequest = answers.OrderBy(a => a.RequestId).Select(a => a.Response.FirstEventId).ToList();
        Assert.Equal(byRequest.Order(), byRequest);
        // More than one transaction took part, or the pipelining was not exercised.
        await using var command = broker.Database.CreateCommand(
            "SELECT count(DISTINCT e.ingest_time) FROM eventstream.events e JOIN eventstream.topics t USING (topic_id) WHERE t.name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        Assert.True((long)(await command.ExecuteScalarAsync())! > 1);
    }

    [Fact]
    public async Task Json_and_text_payloads_are_stored_as_utf8_with_a_content_type()
    {
        var topic = await CreateTopicAsync(Channel);
        var json = new EventData { Json = Google.Protobuf.WellKnownTypes.Value.ForStruct(new Google.Protobuf.WellKnownTypes.Struct { Fields = { ["n"] = Google.Protobuf.WellKnownTypes.Value.ForNumber(1) } }) };
        var text = new EventData { Text = "héllo", Headers = { ["trace"] = "abc" } };
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [json, text])).ResponseAsync;

        await using var command = broker.Database.CreateCommand(
            "SELECT convert_from(payload, 'UTF8'), content_type, headers::text FROM eventstream.events e JOIN eventstream.topics t USING (topic_id) WHERE t.name = $1 ORDER BY event_id");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("{ \"n\": 1 }".Replace(" ", "", StringComparison.Ordinal), reader.GetString(0).Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("application/json", reader.GetString(1));
        Assert.True(await reader.ReadAsync());
        Assert.Equal("héllo", reader.GetString(0));
        Assert.StartsWith("text/plain", reader.GetString(1), StringComparison.Ordinal);
        Assert.Equal("{\"trace\": \"abc\"}", reader.GetString(2));
    }

    private async Task<int> ShardCountAsync()
    {
        await using var command = broker.Database.CreateCommand("SELECT shard_count FROM eventstream.cluster");
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
