using EventStream.Broker.Tests.Broker;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Hardening;

/// <summary>
/// Bad input of every kind, one case per class: each gets its status with a short message, the
/// broker keeps serving, and the events acknowledged around it are all still stored.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class BadInputTests(BrokerFixture broker)
{
    private const int MaxMessageLength = 400;
    private GrpcChannel Channel => broker.Process.Channel;

    /// <summary>What one case sends, given a topic of its own.</summary>
    private delegate Task BadCall(GrpcChannel channel, string topic);

    private static readonly Dictionary<string, (StatusCode Code, string Fragment, BadCall Call)> Cases = new()
    {
        // Names: one rule, anchored at the very end.
        ["topic name ending in a newline"] = (StatusCode.InvalidArgument, "Invalid topic name", (c, _) => CreateTopicAsync(c, UniqueTopic() + "\n")),
        ["group name ending in a newline, on Commit"] = (StatusCode.InvalidArgument, "Invalid group name", (c, _) => Commit(c, "g\n", "m")),
        ["group name ending in a newline, on Leave"] = (StatusCode.InvalidArgument, "Invalid group name", (c, _) =>
            new Consumer.ConsumerClient(c).LeaveAsync(new LeaveRequest { Group = "g\n", MemberId = "m" }).ResponseAsync),
        ["group name of 10,000 characters"] = (StatusCode.InvalidArgument, "10000 characters", (c, _) => Commit(c, new string('g', 10_000), "m")),
        ["topic pattern ending in a newline"] = (StatusCode.InvalidArgument, "Invalid topic pattern", (c, t) => Poll(c, Subscription(UniqueGroup(), [t + "\n"]))),
        // Text fields: valid UTF-8, no NUL.
        ["NUL in a topic description"] = (StatusCode.InvalidArgument, "description", (c, _) =>
            new Admin.AdminClient(c).CreateTopicAsync(new CreateTopicRequest { Name = UniqueTopic(), Description = "a\0b" }).ResponseAsync),
        ["NUL in a list prefix"] = (StatusCode.InvalidArgument, "prefix", (c, _) =>
            new Admin.AdminClient(c).ListTopicsAsync(new ListTopicsRequest { Prefix = "a\0" }).ResponseAsync),
        ["NUL in a member id"] = (StatusCode.InvalidArgument, "member_id", (c, t) => Poll(c, Subscription(UniqueGroup(), [t], memberId: "m\0"))),
        ["NUL in a producer id"] = (StatusCode.InvalidArgument, "producer_id", (c, t) => Produce(c, Batch(t, [Event(null, "x")], producerId: "p\0"))),
        ["NUL in a header value"] = (StatusCode.InvalidArgument, "headers", (c, t) => Produce(c, Batch(t, [new EventData { Headers = { ["h"] = "a\0" } }]))),
        ["NUL in a content type"] = (StatusCode.InvalidArgument, "content_type", (c, t) => Produce(c, Batch(t, [new EventData { ContentType = "text/\0" }]))),
        // Refused by the protobuf parser, before any handler runs.
        ["invalid UTF-8 in a content type"] = (StatusCode.InvalidArgument, "invalid UTF-8", ProduceInvalidUtf8Async),
        ["truncated request message"] = (StatusCode.InvalidArgument, "could not be parsed", ProduceTruncatedAsync),
        // Sequences: a producer never seen must start at 0, and is told so.
        ["new producer starting past 0"] = (StatusCode.Aborted, "but 0 is next", (c, t) =>
            Produce(c, Batch(t, [Event("k", "x")], producerId: "p-" + Guid.NewGuid().ToString("N"), firstSequence: 5))),
        // Sizes: every byte of an event counts.
        ["content type pushing an event past its limit"] = (StatusCode.InvalidArgument, "the limit is", (c, t) => Produce(c, Batch(t,
            [new EventData { Data = ByteString.CopyFrom(new byte[1024 * 1024 - 10]), ContentType = new string('c', 100) }]))),
        ["content type of 3 MiB"] = (StatusCode.InvalidArgument, "content_type", (c, t) => Produce(c, Batch(t, [new EventData { ContentType = new string('c', 3 << 20) }]))),
        // JSON payloads.
        ["JSON value without a kind"] = (StatusCode.InvalidArgument, "no kind", (c, t) => Produce(c, Batch(t, [new EventData { Json = new Value() }]))),
        ["JSON NaN"] = (StatusCode.InvalidArgument, "NaN", (c, t) => Produce(c, Batch(t, [new EventData { Json = Value.ForList(Value.ForNumber(double.NaN)) }]))),
        ["JSON Infinity"] = (StatusCode.InvalidArgument, "NaN or Infinity", (c, t) => Produce(c, Batch(t, [new EventData { Json = Value.ForNumber(double.PositiveInfinity) }]))),
        // Durations and timestamps: normalized, in range.
        ["retention of 10,000 years"] = (StatusCode.InvalidArgument, "retention", (c, _) => CreateTopicAsync(c, UniqueTopic(), TimeSpan.FromDays(3_652_500))),
        ["unnormalized retention"] = (StatusCode.InvalidArgument, "retention", (c, _) =>
            new Admin.AdminClient(c).CreateTopicAsync(new CreateTopicRequest { Name = UniqueTopic(), Retention = new Duration { Seconds = 1, Nanos = 2_000_000_000 } }).ResponseAsync),
        ["session timeout of 3,000 years"] = (StatusCode.InvalidArgument, "session_timeout", (c, t) => Poll(c, Subscription(UniqueGroup(), [t], session: TimeSpan.FromDays(1_095_750)))),
        ["unnormalized session timeout"] = (StatusCode.InvalidArgument, "session_timeout", (c, t) =>
        {
            var subscription = Subscription(UniqueGroup(), [t]);
            subscription.SessionTimeout = new Duration { Seconds = 10, Nanos = -5 };
            return Poll(c, subscription);
        }),
        ["negative max wait"] = (StatusCode.InvalidArgument, "max_wait", (c, t) => new Consumer.ConsumerClient(c).PollAsync(new PollRequest
        {
            Subscription = Subscription(UniqueGroup(), [t]),
            MaxWait = Duration.FromTimeSpan(TimeSpan.FromSeconds(-1)),
        }).ResponseAsync),
        ["start time past year 9999"] = (StatusCode.InvalidArgument, "start.time", (c, t) =>
        {
            var subscription = Subscription(UniqueGroup(), [t]);
            subscription.Start = new StartPoint { Kind = StartPoint.Types.Kind.Time, Time = new Timestamp { Seconds = long.MaxValue } };
            return Poll(c, subscription);
        }),
        ["unknown start kind"] = (StatusCode.InvalidArgument, "start.kind", (c, t) =>
        {
            var subscription = Subscription(UniqueGroup(), [t]);
            subscription.Start = new StartPoint { Kind = (StartPoint.Types.Kind)7 };
            return Poll(c, subscription);
        }),
        ["producer time with negative nanos"] = (StatusCode.InvalidArgument, "producer_time", (c, t) =>
            Produce(c, Batch(t, [new EventData { ProducerTime = new Timestamp { Seconds = 1, Nanos = -1 } }]))),
        ["sequence passing the largest integer"] = (StatusCode.InvalidArgument, "first_sequence", (c, t) =>
            Produce(c, Batch(t, [Event(null, "a"), Event(null, "b")], producerId: "p", firstSequence: long.MaxValue))),
        // Commits: entry count.
        ["commit of 1,025 entries"] = (StatusCode.ResourceExhausted, "MaxCommitEntries", (c, _) => Commit(c, UniqueGroup(), "m",
            Enumerable.Range(0, 1025).Select(i => new ShardCommit { Shard = i % 32, Position = new Position() }))),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Bad_input_gets_its_status_and_harms_nothing(string name)
    {
        var (code, fragment, call) = Cases[name];
        var topic = await CreateTopicAsync(Channel);
        var before = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("k", "before")])).ResponseAsync;

        var error = await Assert.ThrowsAsync<RpcException>(() => call(Channel, topic));

        Assert.True(code == error.StatusCode, $"{error.StatusCode}: {error.Status.Detail}");
        Assert.Contains(fragment, error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length <= MaxMessageLength, $"A message of {error.Status.Detail.Length} characters.");
        Assert.DoesNotMatch(@"\b[0-9A-Z]{5}:", error.Status.Detail);
        await AssertServingAndStoredAsync(topic, before);
    }

    [Fact]
    public async Task Positions_never_delivered_are_refused_and_the_shard_keeps_delivering()
    {
        var topic = await CreateTopicAsync(Channel);
        var subscription = Subscription(UniqueGroup(), [topic], StartPoint.Types.Kind.Earliest);
        var joined = await new Consumer.ConsumerClient(Channel).PollAsync(new PollRequest { Subscription = subscription, MaxWait = new Duration() }).ResponseAsync;
        var lease = joined.Assigned[0];
        foreach (var (position, fragment) in new[]
        {
            (new Position { Node = 0, CommitLsn = ulong.MaxValue }, "past the end"),
            (new Position { Node = 99, CommitLsn = 1 }, "node 99"),
            (new Position { Node = -7, CommitLsn = 1 }, "node -7"),
        })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() =>
                Commit(Channel, subscription.Group, joined.MemberId, [new ShardCommit { Shard = lease.Shard, Epoch = lease.Epoch, Position = position }]));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Contains(fragment, error.Status.Detail, StringComparison.Ordinal);
        }

        // Every shard still delivers what comes next.
        subscription.MemberId = joined.MemberId;
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 64).Select(i => Event("key" + i, "after" + i)))).ResponseAsync;
        var events = await PollUntilAsync(Channel, subscription, 64, TimeSpan.FromSeconds(30));
        Assert.Equal(64, events.Count);
    }

    [Fact]
    public async Task A_huge_commit_is_refused_with_a_short_message()
    {
        var commits = Enumerable.Range(0, 1000).Select(i => new ShardCommit { Shard = 1000 + i, Position = new Position() });
        var error = await Assert.ThrowsAsync<RpcException>(() => Commit(Channel, UniqueGroup(), "m", commits));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("995 more", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length <= MaxMessageLength);
    }

    [Fact]
    public async Task Binary_metadata_that_is_not_base64_is_invalid_argument()
    {
        var topic = await CreateTopicAsync(Channel);
        var before = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("k", "before")])).ResponseAsync;
        // Grpc.Net.Client always encodes binary metadata: this request is written by hand.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, broker.Process.Address + "/eventstream.v1.Admin/ListTopics")
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("x-trace-bin", "!!!not base64!!!");

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var status = response.Headers.TryGetValues("grpc-status", out var values) ? values.Single()
            : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture), status);
        await AssertServingAndStoredAsync(topic, before);
    }

    private async Task AssertServingAndStoredAsync(string topic, ProduceResponse before)
    {
        Assert.False(broker.Process.HasExited);
        var health = await new Grpc.Health.V1.Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var after = await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, [Event("k", "after")])).ResponseAsync;
        var stored = await StoredAsync(broker.Database, topic);
        Assert.Equal([before.FirstEventId, after.FirstEventId], stored.Select(e => e.EventId));
    }

    private static string UniqueGroup() => "g-" + Guid.NewGuid().ToString("N");

    private static Task Produce(GrpcChannel channel, ProduceRequest request) =>
        new Producer.ProducerClient(channel).ProduceAsync(request).ResponseAsync;

    private static Task Poll(GrpcChannel channel, Subscription subscription) =>
        new Consumer.ConsumerClient(channel).PollAsync(new PollRequest { Subscription = subscription, MaxWait = new Duration() }).ResponseAsync;

    private static Task Commit(GrpcChannel channel, string group, string member, IEnumerable<ShardCommit>? commits = null) =>
        new Consumer.ConsumerClient(channel).CommitAsync(new CommitRequest { Group = group, MemberId = member, Commits = { commits ?? [] } }).ResponseAsync;

    /// <summary>A Produce whose content type is the bytes FF FF, which no client library would send as a string.</summary>
    private static Task ProduceInvalidUtf8Async(GrpcChannel channel, string topic)
    {
        var bytes = Batch(topic, [new EventData { ContentType = "@@" }]).ToByteArray();
        var at = bytes.AsSpan().IndexOf("@@"u8);
        bytes[at] = 0xFF;
        bytes[at + 1] = 0xFF;
        return ProduceRawAsync(channel, bytes);
    }

    private static Task ProduceTruncatedAsync(GrpcChannel channel, string topic) =>
        ProduceRawAsync(channel, Batch(topic, [Event("k", "a value cut short")]).ToByteArray()[..^4]);

    private static async Task ProduceRawAsync(GrpcChannel channel, byte[] request)
    {
        var raw = Marshallers.Create(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "eventstream.v1.Producer", "Produce", raw, raw);
        await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), request);
    }
}
