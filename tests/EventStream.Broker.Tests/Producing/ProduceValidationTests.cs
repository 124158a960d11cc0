using EventStream.Broker.Tests.Broker;
using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using Google.Protobuf;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Producing;

/// <summary>Bad input gets its documented status, and the broker keeps serving.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ProduceValidationTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    public static TheoryData<string, StatusCode, string> BadRequests => new()
    {
        { "unknown topic", StatusCode.NotFound, "does not exist" },
        { "bad topic name", StatusCode.InvalidArgument, "Invalid topic name" },
        { "no events", StatusCode.InvalidArgument, "no events" },
        { "too many events", StatusCode.ResourceExhausted, "Split it" },
        { "event too large", StatusCode.InvalidArgument, "the limit is" },
        { "empty header name", StatusCode.InvalidArgument, "empty name" },
        { "negative sequence", StatusCode.InvalidArgument, "first_sequence" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_produce_requests_get_a_clear_status(string kind, StatusCode expected, string message)
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
        var error = await Assert.ThrowsAsync<RpcException>(() => new Producer.ProducerClient(Channel).ProduceAsync(request).ResponseAsync);
        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);

        Assert.Empty(await StoredAsync(broker.Database, topic));
        var ok = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event(null, "after")])).ResponseAsync;
        Assert.Single(ok.Deliveries());
    }

    [Fact]
    public async Task Topic_admin_rejects_bad_and_duplicate_names()
    {
        var bad = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).CreateTopicAsync(new CreateTopicRequest { Name = "a/b" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        var tooLong = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).CreateTopicAsync(new CreateTopicRequest { Name = new string('a', 250) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);

        var topic = await CreateTopicAsync(Channel);
        var duplicate = await Assert.ThrowsAsync<RpcException>(() => CreateTopicAsync(Channel, topic));
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);

        var negative = await Assert.ThrowsAsync<RpcException>(() => CreateTopicAsync(Channel, UniqueTopic(), TimeSpan.FromSeconds(-1)));
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
    }

    [Fact]
    public async Task Topics_can_be_listed_described_and_deleted()
    {
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..8];
        var a = await CreateTopicAsync(Channel, prefix + ".a", TimeSpan.FromHours(3));
        var b = await CreateTopicAsync(Channel, prefix + ".b");
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(a, Enumerable.Range(0, 25).Select(i => Event(null, "e" + i)))).ResponseAsync;

        var listed = await new Admin.AdminClient(Channel).ListTopicsAsync(new ListTopicsRequest { Prefix = prefix }).ResponseAsync;
        Assert.Equal([a, b], listed.Topics.Select(t => t.Name));
        Assert.Equal(TimeSpan.FromHours(3), listed.Topics[0].Retention.ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(7), listed.Topics[1].Retention.ToTimeSpan());

        var described = await new Admin.AdminClient(Channel).DescribeTopicAsync(new DescribeTopicRequest { Name = a }).ResponseAsync;
        Assert.Equal(32, described.ShardCount);
        Assert.Equal(25, described.ApproximateEventCount);
        Assert.True(described.ApproximateSizeBytes > 0);

        await new Admin.AdminClient(Channel).DeleteTopicAsync(new DeleteTopicRequest { Name = a }).ResponseAsync;
        var gone = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).DescribeTopicAsync(new DescribeTopicRequest { Name = a }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        var again = await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(Channel).DeleteTopicAsync(new DeleteTopicRequest { Name = a }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }
}
