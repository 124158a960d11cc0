using EventStream.Broker.Embedded;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStream.Broker.Tests.Embedded;

/// <summary>Misconfigurations fail early with a message that says what to do.</summary>
public sealed class EmbeddedPostgresFailureTests
{
    [Fact]
    public async Task Missing_binaries_fail_with_install_advice()
    {
        using var directory = new TestDirectory();
        var empty = Directory.CreateDirectory(Path.Combine(directory.Path, "bin")).FullName;
        var dataDirectory = Path.Combine(directory.Path, "data");
        var options = new EmbeddedPostgresOptions { BinDirectory = empty, DataDirectory = dataDirectory };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains("sudo apt-get install postgresql-15 postgresql-15-cron", e.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:EventStream", e.Message, StringComparison.Ordinal);
        Assert.Contains(empty, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDirectory));
    }

    [Fact]
    public async Task Data_directory_the_server_account_cannot_reach_is_named_in_the_error()
    {
        if (!UnixUser.IsRoot)
        {
            // Only root hands the server to another account.
            return;
        }

        // TestDirectory is 0700 and root's, like /root: postgres may not enter it.
        using var directory = new TestDirectory();
        var options = new EmbeddedPostgresOptions { DataDirectory = Path.Combine(directory.Path, "nested", "data") };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains($"may not enter {directory.Path}.", e.Message, StringComparison.Ordinal);
        Assert.Contains("EventStream__Embedded__DataDirectory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_of_a_version_not_installed_names_the_package_to_install()
    {
        using var directory = new TestDirectory();
        Directory.CreateDirectory(Path.Combine(directory.Path, "pgdata"));
        await File.WriteAllTextAsync(Path.Combine(directory.Path, "pgdata", "PG_VERSION"), "99\n");
        var options = new EmbeddedPostgresOptions { DataDirectory = directory.Path };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains("created by PostgreSQL 99", e.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install postgresql-99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Directory_holding_other_files_is_not_taken_over()
    {
        using var directory = new TestDirectory();
        var other = Path.Combine(directory.Path, "notes.txt");
        await File.WriteAllTextAsync(other, "not the broker's");
        var options = new EmbeddedPostgresOptions { DataDirectory = directory.Path };

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains("already holds other files", e.Message, StringComparison.Ordinal);
        Assert.Equal([other], Directory.GetFileSystemEntries(directory.Path));
    }

    [Theory]
    [InlineData("Port", "70000")]
    [InlineData("Database", "drop table")]
    [InlineData("MaxSlotWalKeepSize", "lots")]
    public async Task Invalid_options_are_rejected_before_anything_runs(string option, string value)
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = "/nonexistent/eventstream" };
        switch (option)
        {
            case "Port": options.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "Database": options.Database = value; break;
            default: options.MaxSlotWalKeepSize = value; break;
        }

        var e = await Assert.ThrowsAsync<EmbeddedPostgresException>(
            () => EmbeddedPostgres.StartAsync(options, NullLogger.Instance, TestTimeout.Token()));

        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_data_directory_follows_the_user()
    {
        var expected = UnixUser.IsRoot ? "/var/lib/eventstream" : "eventstream";
        Assert.EndsWith(expected, EmbeddedPostgresOptions.DefaultDataDirectory(), StringComparison.Ordinal);
    }
}
