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

    public sealed class QuietService : EventStreamConsumerService
    {
        protected override Task ProcessAsync(ConsumedEvent consumedEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
