using System.Buffers;
using EventStream.Broker.Producing;
using EventStream.Broker.Tests.Broker;
using EventStream.Broker.Topics;
using EventStream.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Hardening;

/// <summary>One producer's bad rows never fail another producer's batches, though they share transactions.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ProducerIsolationTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Six_good_producers_succeed_beside_two_sending_invalid_rows()
    {
        var topic = await CreateTopicAsync(Channel);
        const int batches = 150;
        var good = Enumerable.Range(0, 6).Select(p => Task.Run(async () =>
        {
            var acknowledged = 0;
            for (var i = 0; i < batches; i++)
            {
                var events = Enumerable.Range(0, 10).Select(e => new EventData
                {
                    KeyText = $"p{p}-{e}",
                    ContentType = "text/plain",
                    Headers = { ["trace"] = $"{p}/{i}" },
                    Data = Google.Protobuf.ByteString.CopyFromUtf8($"good {p} {i} {e}"),
                });
                var response = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, events, producerId: $"good-{p}-{topic}", firstSequence: i * 10L)).ResponseAsync;
                acknowledged += response.Shards.Count;
            }
            return acknowledged;
        })).ToList();
        var bad = Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            var refused = 0;
            for (var i = 0; i < batches; i++)
            {
                var row = (i % 3) switch
                {
                    0 => new EventData { Headers = { ["h"] = "nul\0" } },
                    1 => new EventData { ContentType = "text/\0" },
                    _ => new EventData { Headers = { ["h\0"] = "v" } },
                };
                var request = Batch(topic, [Event("k", "fine"), row], producerId: p == 0 ? "" : "bad\0producer");
                var error = await Assert.ThrowsAsync<RpcException>(() => new Producer.ProducerClient(Channel).ProduceAsync(request).ResponseAsync);
                Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
                refused++;
            }
            return refused;
        })).ToList();

        var acknowledged = await Task.WhenAll(good);
        Assert.Equal(2 * batches, (await Task.WhenAll(bad)).Sum());
        Assert.All(acknowledged, count => Assert.Equal(batches * 10, count));
        Assert.Equal(6 * batches * 10, (await StoredAsync(broker.Database, topic)).Count);
    }

    [Fact]
    public async Task A_row_the_database_refuses_fails_only_its_own_batch_of_a_shared_transaction()
    {
        // Past the request checks (as a value they miss would be): the transaction must still
        // store the other batches.
        var topic = await CreateTopicAsync(Channel);
        var info = new TopicInfo(await TopicIdAsync(topic), topic, TimeSpan.FromDays(1), "", DateTime.UtcNow);
        static EventRow Row(string? contentType) => new(0, null, "x"u8.ToArray(), null, null, contentType);
        var batches = new List<PendingBatch>
        {
            new(info, [Row("text/plain")], null, 0),
            new(info, [Row("text/\0")], null, 0),
            new(info, [Row(null), Row("application/json")], null, 0),
        };
        var transaction = new EventTransaction(broker.Database, new EventIdAllocator(), 8, new SequenceCache(100),
            new ArrayBufferWriter<byte>(), TransactionOrder.First);

        var results = await transaction.CommitAsync(batches, DateTime.UtcNow, CancellationToken.None);

        Assert.NotNull(results[0].Outcome);
        Assert.IsType<PostgresException>(results[1].Error);
        Assert.NotNull(results[2].Outcome);
        Assert.Equal(3, (await StoredAsync(broker.Database, topic)).Count);
    }

    private async Task<int> TopicIdAsync(string topic)
    {
        await using var command = broker.Database.CreateCommand("SELECT topic_id FROM eventstream.topics WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
