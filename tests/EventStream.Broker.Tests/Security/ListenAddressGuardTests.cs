using EventStream.Broker.Security;
using Microsoft.Extensions.Configuration;

namespace EventStream.Broker.Tests.Security;

public sealed class ListenAddressGuardTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7400", true)]
    [InlineData("http://localhost:7400", true)]
    [InlineData("https://[::1]:7400", true)]
    [InlineData("http://0.0.0.0:7400", false)]
    [InlineData("http://*:7400", false)]
    [InlineData("http://[::]:7400", false)]
    [InlineData("http://broker-1.internal:7400", false)]
    public void Loopback_is_told_apart(string address, bool loopback) => Assert.Equal(loopback, ListenAddressGuard.IsLoopback(address));

    [Fact]
    public void Non_loopback_without_authentication_is_refused_unless_allowed()
    {
        var configuration = Configuration(("urls", "http://127.0.0.1:1;http://0.0.0.0:2"), ("Kestrel:Endpoints:Tls:Url", "https://10.1.2.3:3"));
        var refusal = ListenAddressGuard.Refusal(configuration, new SecurityOptions());
        Assert.Contains("EventStream:Security:AllowAnonymous", refusal);
        Assert.Contains("http://0.0.0.0:2", refusal);
        Assert.Contains("https://10.1.2.3:3", refusal);
        Assert.Null(ListenAddressGuard.Refusal(configuration, new SecurityOptions { AllowAnonymous = true }));
        Assert.Null(ListenAddressGuard.Refusal(configuration, new SecurityOptions { ApiKeys = { Enabled = true } }));
        Assert.Null(ListenAddressGuard.Refusal(Configuration(("urls", "http://127.0.0.1:1")), new SecurityOptions()));
        Assert.NotNull(ListenAddressGuard.Refusal(Configuration(("http_ports", "8080")), new SecurityOptions()));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
