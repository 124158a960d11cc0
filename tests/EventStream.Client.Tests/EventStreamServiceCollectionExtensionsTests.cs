using EventStream.Client.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventStream.Client.Tests;

public class EventStreamServiceCollectionExtensionsTests
{
    [Fact]
    public async Task Producer_resolves_as_a_singleton_and_is_flushed_and_disposed_with_the_container()
    {
        await using var broker = await FakeBroker.StartAsync("orders");
        var services = new ServiceCollection()
            .AddLogging()
            .AddEventStreamProducer(o =>
            {
                o.Address = broker.Address;
                o.Linger = TimeSpan.FromSeconds(20);
            });
        var provider = services.BuildServiceProvider();

        var producer = provider.GetRequiredService<EventStreamProducer>();
        Assert.Same(producer, provider.GetRequiredService<EventStreamProducer>());
        var produced = producer.ProduceAsync("orders", "k", "v");
        await provider.DisposeAsync().AsTask().WaitAsync(TestTimeout.Token());

        Assert.True(produced.IsCompletedSuccessfully);
        Assert.Single(broker.Producer.Stored("orders"));
        Assert.Throws<ObjectDisposedException>(() => { _ = producer.ProduceAsync("orders", "k", "v"); });
    }

    [Fact]
    public void Options_bind_from_the_EventStream_Producer_section_and_code_wins()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStream:Producer:Address"] = "http://broker:7400",
            ["EventStream:Producer:Linger"] = "00:00:00.020",
            ["EventStream:Producer:MaxInFlight"] = "3",
            ["EventStream:Producer:ProducerId"] = "from-config",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEventStreamProducer(o => o.MaxInFlight = 2);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value;

        Assert.Equal("http://broker:7400", options.Address);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.Linger);
        Assert.Equal(2, options.MaxInFlight);
        Assert.Equal("from-config", options.ProducerId);
    }

    [Fact]
    public void Without_configuration_the_defaults_apply()
    {
        using var provider = new ServiceCollection().AddEventStreamProducer().BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<EventStreamProducerOptions>>().Value;
        Assert.Equal("http://127.0.0.1:7400", options.Address);
    }

    [Fact]
    public async Task Invalid_options_fail_when_the_producer_is_resolved()
    {
        await using var provider = new ServiceCollection().AddEventStreamProducer(o => o.MaxBatchEvents = 0).BuildServiceProvider();
        var e = Assert.Throws<ArgumentException>(() => { _ = provider.GetRequiredService<EventStreamProducer>(); });
        Assert.Equal("MaxBatchEvents", e.ParamName);
    }
}
