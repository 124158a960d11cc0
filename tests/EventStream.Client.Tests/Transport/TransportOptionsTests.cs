using EventStream.Client.Tests.Fakes;
using Grpc.Net.Client;

namespace EventStream.Client.Tests.Transport;

/// <summary>The transport settings both options classes share: which combinations are valid.</summary>
public sealed class TransportOptionsTests
{
    private static EventStreamConsumerOptions Consumer() => new() { Group = "billing", Topics = { "orders" } };

    [Fact]
    public void A_channel_of_your_own_makes_the_address_optional()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:7400");
        new EventStreamProducerOptions { Channel = channel, Address = "not an address" }.Validate();
        var consumer = Consumer();
        consumer.Channel = channel;
        consumer.Address = null!;
        consumer.Validate();
    }

    [Fact]
    public void A_channel_and_an_http_handler_together_are_rejected_naming_both()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:7400");
        using var handler = new CountingHandler();

        var producer = Assert.Throws<ArgumentException>(new EventStreamProducerOptions { Channel = channel, HttpHandler = handler }.Validate);
        var consumerOptions = Consumer();
        consumerOptions.Channel = channel;
        consumerOptions.HttpHandler = handler;
        var consumer = Assert.Throws<ArgumentException>(consumerOptions.Validate);

        Assert.Equal("HttpHandler", producer.ParamName);
        Assert.StartsWith("EventStreamProducerOptions.HttpHandler ", producer.Message);
        Assert.Contains("Channel", producer.Message, StringComparison.Ordinal);
        Assert.Equal("HttpHandler", consumer.ParamName);
        Assert.StartsWith("EventStreamConsumerOptions.HttpHandler ", consumer.Message);
        Assert.Contains("Channel", consumer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_http_handler_and_one_in_the_channel_options_are_rejected_naming_both()
    {
        using var handler = new CountingHandler();
        using var other = new CountingHandler();
        using var client = new HttpClient();

        var withHandler = Assert.Throws<ArgumentException>(
            new EventStreamProducerOptions { HttpHandler = handler, ChannelOptions = new GrpcChannelOptions { HttpHandler = other } }.Validate);
        var withClient = Assert.Throws<ArgumentException>(
            new EventStreamProducerOptions { HttpHandler = handler, ChannelOptions = new GrpcChannelOptions { HttpClient = client } }.Validate);

        Assert.Equal("HttpHandler", withHandler.ParamName);
        Assert.Contains("ChannelOptions.HttpHandler", withHandler.Message, StringComparison.Ordinal);
        Assert.Equal("HttpHandler", withClient.ParamName);
        Assert.Contains("ChannelOptions.HttpClient", withClient.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Channel_options_with_both_a_handler_and_an_http_client_are_rejected()
    {
        using var handler = new CountingHandler();
        using var client = new HttpClient();
        var options = Consumer();
        options.ChannelOptions = new GrpcChannelOptions { HttpHandler = handler, HttpClient = client };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("ChannelOptions", e.ParamName);
    }

    [Fact]
    public void Interceptors_must_not_be_null_or_hold_null()
    {
        Assert.Equal("Interceptors", Assert.Throws<ArgumentException>(new EventStreamProducerOptions { Interceptors = null! }.Validate).ParamName);
        var options = Consumer();
        options.Interceptors.Add(null!);
        Assert.Equal("Interceptors", Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }

    [Fact]
    public void Options_are_copied_with_their_own_interceptor_list()
    {
        var options = new EventStreamProducerOptions { Interceptors = { new RecordingInterceptor() } };
        var copy = options.Clone();
        options.Interceptors.Add(new RecordingInterceptor());
        Assert.Single(copy.Interceptors);

        var consumer = Consumer();
        var consumerCopy = consumer.Clone();
        consumer.Interceptors.Add(new RecordingInterceptor());
        Assert.Empty(consumerCopy.Interceptors);
    }
}
