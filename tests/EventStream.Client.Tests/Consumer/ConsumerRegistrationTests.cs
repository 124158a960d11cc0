using EventStream.Client.Tests.Fakes;
using EventStream.Client.Transport;
using EventStream.Protocol.V1;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Tests.Consumer;

public class ConsumerRegistrationTests
{
    [Fact]
    public void Options_bind_from_the_EventStream_Consumer_section_and_code_wins()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStream:Consumer:Address"] = "http://broker:7400",
            ["EventStream:Consumer:Group"] = "from-config",
            ["EventStream:Consumer:Topics:0"] = "orders",
            ["EventStream:Consumer:Topics:1"] = "clicks.*",
            ["EventStream:Consumer:StartPosition"] = "Earliest",
            ["EventStream:Consumer:SessionTimeout"] = "00:00:45",
            ["EventStream:Consumer:AutoCommitInterval"] = "00:00:01",
            ["EventStream:Consumer:MaxBufferedEvents"] = "500",
        }).Build();
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEventStreamConsumer<QuietService>(o => o.MaxBufferedEvents = 100)
            .BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<EventStreamConsumerOptions>>().Get(typeof(QuietService).FullName);

        Assert.Equal("http://broker:7400", options.Address);
        Assert.Equal("from-config", options.Group);
        Assert.Equal(["orders", "clicks.*"], options.Topics);
        Assert.Equal(StartPosition.Earliest, options.StartPosition);
        Assert.Equal(TimeSpan.FromSeconds(45), options.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.AutoCommitInterval);
        Assert.Equal(100, options.MaxBufferedEvents);
    }

    [Fact]
    public void The_service_is_registered_once_as_a_hosted_service_and_resolves_with_its_options()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddEventStreamConsumer<QuietService>(o => o.Group = "g")
            .AddEventStreamConsumer<QuietService>()
            .BuildServiceProvider();

        var hosted = Assert.Single(provider.GetServices<IHostedService>());

        Assert.Same(provider.GetRequiredService<QuietService>(), hosted);
    }

    [Fact]
    public async Task A_service_with_invalid_options_fails_when_started()
    {
        using var provider = new ServiceCollection().AddLogging().AddEventStreamConsumer<QuietService>().BuildServiceProvider();
        var service = (QuietService)Assert.Single(provider.GetServices<IHostedService>());

        await service.StartAsync(CancellationToken.None);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => service.ExecuteTask!);

        Assert.Equal("Group", e.ParamName);
    }

    [Fact]
    public async Task An_interceptor_added_to_the_consumers_gRPC_client_sees_its_calls()
    {
        // The fake broker serves no Consumer service: the join fails with UNIMPLEMENTED, through the client.
        await using var broker = await FakeBroker.StartAsync();
        var interceptor = new RecordingInterceptor();
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddEventStreamConsumer<QuietService>(o =>
            {
                o.Address = broker.Address;
                o.Group = "g";
                o.Topics.Add("orders");
            }, client => client.AddInterceptor(() => interceptor))
            .BuildServiceProvider();
        var service = (QuietService)Assert.Single(provider.GetServices<IHostedService>());

        await service.StartAsync(CancellationToken.None);
        var e = await Assert.ThrowsAsync<EventStreamException>(() => service.ExecuteTask!.WaitAsync(TestTimeout.Token()));

        Assert.Equal(EventStreamErrorReason.NotSupported, e.Reason);
        Assert.Equal(1, interceptor.CountOf("/eventstream.v1.Consumer/Subscribe"));
    }

    [Fact]
    public void Each_consumer_service_has_a_gRPC_client_of_its_own()
    {
        Assert.Equal("EventStream.Consumer." + typeof(QuietService).FullName, EventStreamServiceCollectionExtensions.ConsumerClientName<QuietService>());
        Assert.NotEqual(EventStreamServiceCollectionExtensions.ConsumerClientName<QuietService>(),
            EventStreamServiceCollectionExtensions.ConsumerClientName<OtherService>());
    }

    [Fact]
    public async Task A_redirect_goes_through_a_client_configured_like_the_consumers_client()
    {
        await using var configured = await FakeBroker.StartAsync("orders");
        await using var coordinator = await FakeBroker.StartAsync("orders");
        var interceptor = new RecordingInterceptor();
        var handler = new CountingHandler();
        await using var provider = new ServiceCollection()
            .AddEventStreamConsumer<QuietService>(o => o.Address = configured.Address, client => client
                .AddInterceptor(() => interceptor)
                .ConfigurePrimaryHttpMessageHandler(() => handler))
            .BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<EventStreamConsumerOptions>>().Get(typeof(QuietService).FullName);
        var connector = ClientFactoryConnector.For(provider, EventStreamServiceCollectionExtensions.ConsumerClientName<QuietService>(), options.Transport);

        using var redirected = connector.Connect(new Uri(coordinator.Address));
        await new EventStream.Protocol.V1.Producer.ProducerClient(redirected.Invoker).ProduceAsync(
            new ProduceRequest { Topic = "orders", Events = { new EventData { Text = "v" } } }, cancellationToken: TestTimeout.Token());

        Assert.True(redirected.IsAt(new Uri(coordinator.Address)));
        Assert.Single(coordinator.Producer.Stored("orders"));
        Assert.Equal(0, configured.Producer.StartedCalls);
        Assert.Equal(1, interceptor.CountOf("/eventstream.v1.Producer/Produce"));
        Assert.Equal(1, handler.Requests);
        Assert.DoesNotContain("gzip", Assert.Single(coordinator.Producer.AcceptEncodings), StringComparison.Ordinal);
    }

    public sealed class OtherService : EventStreamConsumerService
    {
        protected override Task ProcessAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class QuietService : EventStreamConsumerService
    {
        protected override Task ProcessAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
