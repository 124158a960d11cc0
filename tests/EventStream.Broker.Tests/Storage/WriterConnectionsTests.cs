using EventStream.Broker.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace EventStream.Broker.Tests.Storage;

/// <summary>The produce writer's pool keeps prepared statements and skips the reset, unless the connection string says otherwise.</summary>
public sealed class WriterConnectionsTests
{
    [Fact]
    public async Task Writer_connections_keep_prepared_statements_and_skip_the_reset()
    {
        await using var dataSource = WriterConnections.Build("Host=127.0.0.1;Port=5432;Username=u;Password=p", NullLoggerFactory.Instance);

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.True(settings.NoResetOnClose);
        Assert.Equal(32, settings.MaxAutoPrepare);
        Assert.Equal(2, settings.AutoPrepareMinUsages);
    }

    [Theory]
    [InlineData("No Reset On Close=false;Max Auto Prepare=0;Auto Prepare Min Usages=7")]
    [InlineData("noresetonclose=false;MAXAUTOPREPARE=0;AutoPrepareMinUsages=7")]
    public async Task Settings_the_connection_string_gives_are_kept(string given)
    {
        await using var dataSource = WriterConnections.Build("Host=127.0.0.1;Port=5432;Username=u;Password=p;" + given, NullLoggerFactory.Instance);

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.False(settings.NoResetOnClose);
        Assert.Equal(0, settings.MaxAutoPrepare);
        Assert.Equal(7, settings.AutoPrepareMinUsages);
    }
}
