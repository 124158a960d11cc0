using System.Text;
using EventStream.Broker.Consuming;
using EventStream.Broker.Tests.Broker;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Grpc.Health.V1;
using Grpc.Net.Client;
using static EventStream.Broker.Tests.Consuming.ConsumeClient;
using EventMessage = EventStream.Protocol.V1.Event;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Hardening;

/// <summary>
/// Payloads that cannot be shown as JSON, read by members asking for JSON: each comes in the
/// documented fallback form (text, or bytes), its neighbours as JSON, and the broker keeps running.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class PoisonPayloadTests(BrokerFixture broker)
{
    private GrpcChannel Channel => broker.Process.Channel;

    [Fact]
    public async Task Deeply_nested_and_broken_JSON_reaches_members_as_text_beside_good_JSON()
    {
        var topic = await CreateTopicAsync(Channel);
        var poison = new string('[', 50_000);
        var payloads = new List<string> { "{\"n\":1}", poison, "not json", "[1e999]", "{\"n\":2}", new string('[', 33) + new string(']', 33), "[\"\\ud800\"]" };
        payloads.AddRange(Enumerable.Range(3, 5).Select(i => $"{{\"n\":{i}}}"));
        var events = payloads.Select(p => new EventData { KeyText = "one-shard", Data = ByteString.CopyFromUtf8(p) }).ToList();
        events.Add(new EventData { KeyText = "one-shard", Data = ByteString.CopyFrom(0xFF, 0xFE) });
        await new Producer.ProducerClient(Channel).ProduceAsync(Batch(topic, events)).ResponseAsync;

        var subscription = Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest);
        subscription.PayloadFormat = PayloadFormat.Json;
        var received = await PollUntilAsync(Channel, subscription, events.Count, TimeSpan.FromSeconds(30));

        Assert.Equal(events.Count, received.Count);
        Assert.Equal(EventMessage.PayloadOneofCase.Text, received[1].PayloadCase);
        Assert.Equal(poison, received[1].Text);
        Assert.Equal([2, 3, 5, 6], received.Select((e, i) => (e, i)).Where(x => x.e.PayloadCase == EventMessage.PayloadOneofCase.Text && x.i != 1).Select(x => x.i));
        Assert.Equal(EventMessage.PayloadOneofCase.Data, received[^1].PayloadCase);
        var json = received.Where(e => e.PayloadCase == EventMessage.PayloadOneofCase.Json).ToList();
        Assert.Equal(7, json.Count);
        Assert.All(json, e => Assert.True(e.Json.StructValue.Fields["n"].NumberValue > 0));
        Assert.False(broker.Process.HasExited);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Grpc.Health.V1.Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest())).Status);
    }

    [Theory]
    [InlineData(32, true)]
    [InlineData(33, false)]
    [InlineData(100_000, false)]
    public void Json_nesting_is_bounded_without_recursion(int depth, bool rendered)
    {
        var json = Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));
        Assert.Equal(rendered, PayloadRendering.TryParseJson(json) is not null);
    }

    [Fact]
    public void Json_rendering_falls_back_past_its_value_count_and_growth()
    {
        var many = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("0", PayloadRendering.MaxJsonValues)) + "]");
        Assert.Null(PayloadRendering.TryParseJson(many));

        // Each "0," takes two bytes of text and eleven of protobuf: more than twice the payload.
        var bloated = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("0", 1000)) + "]");
        var message = new EventMessage();
        PayloadRendering.SetPayload(message, bloated, PayloadFormat.Json);
        Assert.Equal(EventMessage.PayloadOneofCase.Text, message.PayloadCase);

        var fine = Encoding.UTF8.GetBytes("{\"name\":\"a rather long string value\",\"list\":[true,null,\"x\"]}");
        PayloadRendering.SetPayload(message, fine, PayloadFormat.Json);
        Assert.Equal(EventMessage.PayloadOneofCase.Json, message.PayloadCase);
        Assert.Equal("x", message.Json.StructValue.Fields["list"].ListValue.Values[2].StringValue);
    }
}
