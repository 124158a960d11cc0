using EventStream.Broker.Tests.Maintenance;
using EventStream.Broker.Storage;
using EventStream.Broker.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Tests.Transport;

/// <summary>The one mapping from failures to the statuses clients see.</summary>
public sealed class CallFailuresTests
{
    private readonly RecordingLogger _log = new();

    private CallFailures Failures => new(new Logger<CallFailures>(new LoggerFactory([new RecordingLoggerProvider(_log)])));

    [Fact]
    public void Statuses_the_broker_means_pass_through_unchanged()
    {
        var status = Failures.ToStatus(new RpcException(new Status(StatusCode.NotFound, "Topic 'x' does not exist.")), "/m");

        Assert.Equal(StatusCode.NotFound, status.StatusCode);
        Assert.Equal("Topic 'x' does not exist.", status.Detail);
        Assert.Empty(_log.Entries);
    }

    [Theory]
    [InlineData("57P01")] // admin shutdown
    [InlineData("08006")] // connection failure
    [InlineData("53300")] // too many connections
    [InlineData("40001")] // serialization failure
    [InlineData("40P01")] // deadlock
    public void Database_outages_and_retryable_conflicts_are_unavailable(string sqlState)
    {
        var status = Failures.ToStatus(new PostgresException("terminating connection", "FATAL", "FATAL", sqlState), "/m");

        Assert.Equal(StatusCode.Unavailable, status.StatusCode);
    }

    [Fact]
    public void A_database_that_is_not_ready_or_unreachable_is_unavailable()
    {
        Assert.Equal(StatusCode.Unavailable, Failures.ToStatus(new DatabaseNotReadyException(), "/m").StatusCode);
        Assert.Equal(StatusCode.Unavailable, Failures.ToStatus(new NpgsqlException("Failed to connect"), "/m").StatusCode);
    }

    [Fact]
    public void Internal_errors_reach_the_client_as_an_error_id_and_the_log_in_full()
    {
        var failure = new InvalidOperationException("secret internal detail at /srv/eventstream");

        var status = Failures.ToStatus(failure, "/eventstream.v1.Admin/CreateTopic");

        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.DoesNotContain("secret", status.Detail, StringComparison.Ordinal);
        var logged = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Same(failure, logged.Exception);
        var errorId = logged.Message.Split("error id ")[1][..12];
        Assert.Contains(errorId, status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_value_is_invalid_argument_without_its_sqlstate_or_text()
    {
        var status = Failures.ToStatus(new PostgresException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "ERROR", "22021"), "/m");

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.DoesNotContain("22021", status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("byte sequence", status.Detail, StringComparison.Ordinal);
        Assert.Single(_log.Entries);
    }

    [Fact]
    public void A_rejected_statement_does_not_show_its_sqlstate_or_text()
    {
        var status = Failures.ToStatus(new PostgresException("column \"x\" does not exist", "ERROR", "ERROR", "42703"), "/m");

        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.DoesNotContain("42703", status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", status.Detail, StringComparison.Ordinal);
    }
}
