using EventStream.Client.Tests.Fakes;
using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using Grpc.Net.Client;

namespace EventStream.Client.Tests.Transport;

/// <summary>The channels a consumer opens from its options: to the configured broker, and after a redirect.</summary>
public sealed class BrokerConnectorTests
{
    private static EventStreamConsumerOptions Options(Action<EventStreamConsumerOptions> configure)
    {
        var options = new EventStreamConsumerOptions { Group = "billing", Topics = { "orders" } };
        configure(options);
        options.Validate();
        return options;
    }

    [Fact]
    public void The_configured_address_is_where_the_channel_goes()
    {
        var connector = new OptionsConnector(Options(o => o.Address = "http://10.0.0.1:7400").Transport);
        using var channel = connector.Connect();

        Assert.True(channel.IsAt(new Uri("http://10.0.0.1:7400/")));
        Assert.False(channel.IsAt(new Uri("https://10.0.0.1:7400")));
        Assert.False(channel.IsAt(new Uri("http://10.0.0.2:7400")));
    }

    [Fact]
    public void A_channel_of_your_own_is_known_by_its_target_and_a_redirect_gets_a_channel_of_its_own()
    {
        using var own = GrpcChannel.ForAddress("http://10.0.0.1:7400");
        var connector = new OptionsConnector(Options(o => o.Channel = own).Transport);

        using var configured = connector.Connect();
        using var redirected = connector.Connect(new Uri("http://10.0.0.5:7400"));

        Assert.Equal("10.0.0.1:7400", configured.Address);
        Assert.True(configured.IsAt(new Uri("http://10.0.0.1:7400")));
        Assert.True(redirected.IsAt(new Uri("http://10.0.0.5:7400")));
        Assert.False(redirected.IsAt(new Uri("http://10.0.0.1:7400")));
    }

    [Fact]
    public async Task A_redirect_channel_sends_through_the_same_handler_and_interceptors_and_leaves_the_handler_to_its_owner()
    {
        await using var configuredBroker = await FakeBroker.StartAsync("orders");
        await using var coordinator = await FakeBroker.StartAsync("orders");
        using var handler = new CountingHandler();
        var interceptor = new RecordingInterceptor();
        var connector = new OptionsConnector(Options(o =>
        {
            o.Address = configuredBroker.Address;
            o.HttpHandler = handler;
            o.Interceptors.Add(interceptor);
        }).Transport);

        using (var redirected = connector.Connect(new Uri(coordinator.Address)))
        {
            await new EventStream.Protocol.V1.Producer.ProducerClient(redirected.Invoker).ProduceAsync(
                new ProduceRequest { Topic = "orders", Events = { new EventData { Text = "v" } } }, cancellationToken: TestTimeout.Token());
        }

        Assert.Single(coordinator.Producer.Stored("orders"));
        Assert.Equal(1, handler.Requests);
        Assert.Equal(1, interceptor.CountOf("/eventstream.v1.Producer/Produce"));
        Assert.False(handler.IsDisposed);
        Assert.Equal(0, configuredBroker.Producer.StartedCalls);
    }
}
