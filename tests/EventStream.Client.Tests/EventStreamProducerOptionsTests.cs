using Grpc.Net.Client;

namespace EventStream.Client.Tests;

public class EventStreamProducerOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_documented()
    {
        var options = new EventStreamProducerOptions();
        options.Validate();
        Assert.Equal("http://127.0.0.1:7400", options.Address);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.Linger);
        Assert.Equal(10_000, options.MaxBatchEvents);
        Assert.Equal(1024 * 1024, options.MaxBatchBytes);
        Assert.Equal(5, options.MaxInFlight);
        Assert.Equal(10, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.RetryBackoff);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxRetryBackoff);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.DeliveryTimeout);
        Assert.True(options.EnableIdempotence);
        Assert.True(Guid.TryParse(options.ProducerId, out _));
    }

    [Fact]
    public void Each_producer_options_gets_its_own_producer_id() =>
        Assert.NotEqual(new EventStreamProducerOptions().ProducerId, new EventStreamProducerOptions().ProducerId);

    public static TheoryData<string, Action<EventStreamProducerOptions>> InvalidSettings => new()
    {
        { "Address", o => o.Address = "127.0.0.1:7400" },
        { "Address", o => o.Address = "ftp://host" },
        { "Address", o => o.Address = null! },
        { "Linger", o => o.Linger = TimeSpan.FromMilliseconds(-1) },
        { "Linger", o => o.Linger = TimeSpan.FromMinutes(5) },
        { "MaxBatchEvents", o => o.MaxBatchEvents = 0 },
        { "MaxBatchBytes", o => o.MaxBatchBytes = 0 },
        { "MaxBatchBytes", o => o.MaxBatchBytes = 4 * 1024 * 1024 },
        { "MaxBatchBytes", o => o.ChannelOptions = new GrpcChannelOptions { MaxSendMessageSize = 512 * 1024 } },
        { "ChannelOptions", o => o.ChannelOptions = new GrpcChannelOptions { MaxSendMessageSize = 100 } },
        { "MaxInFlight", o => o.MaxInFlight = 0 },
        { "MaxInFlight", o => o.MaxInFlight = 6 },
        { "MaxRetries", o => o.MaxRetries = -1 },
        { "RetryBackoff", o => o.RetryBackoff = TimeSpan.Zero },
        { "MaxRetryBackoff", o => o.MaxRetryBackoff = TimeSpan.FromMilliseconds(50) },
        { "MaxRetryBackoff", o => o.MaxRetryBackoff = TimeSpan.FromMinutes(3) },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.Zero },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.FromMinutes(3) },
        { "DeliveryTimeout", o => o.DeliveryTimeout = TimeSpan.Zero },
        { "DeliveryTimeout", o => o.DeliveryTimeout = TimeSpan.FromDays(30) },
        { "DeliveryTimeout", o => { o.Linger = TimeSpan.FromSeconds(1); o.DeliveryTimeout = TimeSpan.FromSeconds(30); } },
        { "ProducerId", o => o.ProducerId = "" },
        { "ProducerId", o => o.ProducerId = null! },
        { "ProducerId", o => o.ProducerId = new string('p', 201) },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Out_of_range_setting_is_named_in_the_exception(string setting, Action<EventStreamProducerOptions> configure)
    {
        var options = new EventStreamProducerOptions();
        configure(options);
        var e = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Equal(setting, e.ParamName);
        Assert.StartsWith($"EventStreamProducerOptions.{setting} ", e.Message);
    }

    [Fact]
    public void Without_idempotence_more_requests_may_be_in_flight_and_the_producer_id_is_unused()
    {
        var options = new EventStreamProducerOptions { EnableIdempotence = false, MaxInFlight = 20, ProducerId = "" };
        options.Validate();
    }

    [Fact]
    public async Task The_producer_validates_and_copies_its_options()
    {
        Assert.Throws<ArgumentException>(() => new EventStreamProducer(new EventStreamProducerOptions { MaxInFlight = 0 }));
        var options = new EventStreamProducerOptions { ProducerId = "p-1" };
        await using var producer = new EventStreamProducer(options);
        options.ProducerId = "changed";
        Assert.Equal("p-1", producer.ProducerId);
    }
}
