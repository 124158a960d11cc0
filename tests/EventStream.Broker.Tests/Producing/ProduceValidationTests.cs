using EventStream.Broker.Tests.Broker;
using EventStream.Grpc;
using EventStream.Grpc.Client;
using EventStream.Protocol.Methods;
using EventStream.Protocol.V1;
using Google.Protobuf;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Producing;

/// <summary>Bad input gets its documented status, and the broker keeps serving.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ProduceValidationTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    public static TheoryData<string, GrpcStatusCode, string> BadRequests => new()
    {
        { "unknown topic", GrpcStatusCode.NotFound, "does not exist" },
        { "bad topic name", GrpcStatusCode.InvalidArgument, "Invalid topic name" },
        { "no events", GrpcStatusCode.InvalidArgument, "no events" },
        { "too many events", GrpcStatusCode.ResourceExhausted, "Split it" },
        { "event too large", GrpcStatusCode.InvalidArgument, "the limit is" },
        { "empty header name", GrpcStatusCode.InvalidArgument, "empty name" },
        { "negative sequence", GrpcStatusCode.InvalidArgument, "first_sequence" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_produce_requests_get_a_clear_status(string kind, GrpcStatusCode expected, string message)
    {
        var topic = await CreateTopicAsync(Channel);
        var request = kind switch
        {
            "unknown topic" => Batch("missing-" + Guid.NewGuid().ToString("N"), [Event(null, "x")]),
            "bad topic name" => Batch("no spaces allowed", [Event(null, "x")]),
            "no events" => Batch(topic, []),
            "too many events" => Batch(topic, Enumerable.Range(0, 10_001).Select(_ => new EventData())),
            "event too large" => Batch(topic, [new EventData { Data = ByteString.CopyFrom(new byte[1024 * 1024 + 1]) }]),
            "empty header name" => Batch(topic, [new EventData { Headers = { [""] = "v" } }]),
            "negative sequence" => Batch(topic, [Event(null, "x")], producerId: "p", firstSequence: -1),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var error = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(ProducerMethods.Produce, request));
        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);

        Assert.Empty(await StoredAsync(broker.Database, topic));
        var ok = await Channel.UnaryAsync(ProducerMethods.Produce, Batch(topic, [Event(null, "after")]));
        Assert.Single(ok.Deliveries());
    }

    [Fact]
    public async Task Topic_admin_rejects_bad_and_duplicate_names()
    {
        var bad = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.CreateTopic, new CreateTopicRequest { Name = "a/b" }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, bad.StatusCode);
        var tooLong = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.CreateTopic, new CreateTopicRequest { Name = new string('a', 250) }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, tooLong.StatusCode);

        var topic = await CreateTopicAsync(Channel);
        var duplicate = await Assert.ThrowsAsync<GrpcException>(() => CreateTopicAsync(Channel, topic));
        Assert.Equal(GrpcStatusCode.AlreadyExists, duplicate.StatusCode);

        var negative = await Assert.ThrowsAsync<GrpcException>(() => CreateTopicAsync(Channel, UniqueTopic(), TimeSpan.FromSeconds(-1)));
        Assert.Equal(GrpcStatusCode.InvalidArgument, negative.StatusCode);
    }

    [Fact]
    public async Task Topics_can_be_listed_described_and_deleted()
    {
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..8];
        var a = await CreateTopicAsync(Channel, prefix + ".a", TimeSpan.FromHours(3));
        var b = await CreateTopicAsync(Channel, prefix + ".b");
        await Channel.UnaryAsync(ProducerMethods.Produce, Batch(a, Enumerable.Range(0, 25).Select(i => Event(null, "e" + i))));

        var listed = await Channel.UnaryAsync(AdminMethods.ListTopics, new ListTopicsRequest { Prefix = prefix });
        Assert.Equal([a, b], listed.Topics.Select(t => t.Name));
        Assert.Equal(TimeSpan.FromHours(3), listed.Topics[0].Retention.ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(7), listed.Topics[1].Retention.ToTimeSpan());

        var described = await Channel.UnaryAsync(AdminMethods.DescribeTopic, new DescribeTopicRequest { Name = a });
        Assert.Equal(32, described.ShardCount);
        Assert.Equal(25, described.ApproximateEventCount);
        Assert.True(described.ApproximateSizeBytes > 0);

        await Channel.UnaryAsync(AdminMethods.DeleteTopic, new DeleteTopicRequest { Name = a });
        var gone = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.DescribeTopic, new DescribeTopicRequest { Name = a }));
        Assert.Equal(GrpcStatusCode.NotFound, gone.StatusCode);
        var again = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(AdminMethods.DeleteTopic, new DeleteTopicRequest { Name = a }));
        Assert.Equal(GrpcStatusCode.NotFound, again.StatusCode);
    }
}
