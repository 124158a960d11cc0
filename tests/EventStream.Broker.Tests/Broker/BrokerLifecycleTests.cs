using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using EventStream.Broker.Embedded;
using EventStream.Broker.Health;
using EventStream.Broker.Tests.Consuming;
using EventStream.Broker.Tests.Producing;
using EventStream.Protocol.V1;
using EventStream.Testing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Broker.Tests.Broker;

/// <summary>Starting, restarting and crashing the broker process on its embedded database.</summary>
public sealed class BrokerLifecycleTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Second_start_reuses_the_data_directory()
    {
        using var directory = new TestDirectory();
        var environment = DataDirectory(directory);
        await using (var first = BrokerProcess.Start(environment))
        {
            await first.WaitUntilServingAsync();
            Assert.Contains("Creating a PostgreSQL cluster", first.Output, StringComparison.Ordinal);
        }
        var versionFile = new FileInfo(Path.Combine(directory.Path, "pgdata", "PG_VERSION"));
        var created = versionFile.LastWriteTimeUtc;

        await using var second = BrokerProcess.Start(environment);
        await second.WaitUntilServingAsync();
        Assert.DoesNotContain("Creating a PostgreSQL cluster", second.Output, StringComparison.Ordinal);
        Assert.Equal(created, new FileInfo(versionFile.FullName).LastWriteTimeUtc);
    }

    [Fact]
    public async Task Broker_killed_with_sigkill_recovers_on_the_next_start()
    {
        using var directory = new TestDirectory();
        var environment = DataDirectory(directory);
        await using (var crashed = BrokerProcess.Start(environment))
        {
            await crashed.WaitUntilServingAsync();
            crashed.Kill();
            await crashed.WaitForExitAsync(ExitTimeout);
        }

        // PostgreSQL outlived the broker; the next start must take it over cleanly.
        await using var restarted = BrokerProcess.Start(environment);
        await restarted.WaitUntilServingAsync();
        Assert.Contains("Using PostgreSQL", restarted.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_killed_and_restarted_on_its_data_directory_serves_its_groups_at_once()
    {
        using var directory = new TestDirectory();
        var environment = DataDirectory(directory);
        var group = "g-" + Guid.NewGuid().ToString("N");
        string topic;
        await using (var crashed = BrokerProcess.Start(environment))
        {
            await crashed.WaitUntilServingAsync();
            topic = await ProduceClient.CreateTopicAsync(crashed.Channel);
            await using var member = await SubscribeSession.JoinAsync(crashed.Channel, ConsumeClient.Subscription(group, [topic]));
            crashed.Kill();
            await crashed.WaitForExitAsync(ExitTimeout);
        }

        // The group's coordinator lease (10 s) is still the killed process's: the same broker id,
        // kept in the data directory, takes it back instead of waiting for it to expire.
        await using var restarted = BrokerProcess.Start(environment);
        await restarted.WaitUntilServingAsync();
        var joining = Stopwatch.StartNew();
        await using var rejoined = await SubscribeSession.JoinAsync(restarted.Channel, ConsumeClient.Subscription(group, [topic]));
        Assert.True(joining.Elapsed < TimeSpan.FromSeconds(3), $"Joining took {joining.Elapsed.TotalSeconds:F1} s.");
        Assert.Equal(
            (await File.ReadAllTextAsync(Path.Combine(directory.Path, "broker-id"))).Trim(),
            await HolderOfAsync(restarted, group));
    }

    [Fact]
    public async Task Embedded_postgres_killed_while_producing_is_started_again_and_nothing_acknowledged_is_lost()
    {
        using var directory = new TestDirectory();
        await using var broker = BrokerProcess.Start(DataDirectory(directory));
        await broker.WaitUntilServingAsync();
        var topic = await ProduceClient.CreateTopicAsync(broker.Channel);
        using var watch = new Grpc.Health.V1.Health.HealthClient(broker.Channel).Watch(new Grpc.Health.V1.HealthCheckRequest());
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        var acknowledged = new ConcurrentBag<string>();
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            for (var batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var payloads = Enumerable.Range(0, 20).Select(i => $"{batch}-{i}").ToList();
                try
                {
                    await new Producer.ProducerClient(broker.Channel).ProduceAsync(
                        ProduceClient.Batch(topic, payloads.Select(p => ProduceClient.Event("k" + p.Length, p))), cancellationToken: CancellationToken.None);
                    payloads.ForEach(acknowledged.Add);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    // Retried by any producer: the database is away for a moment.
                    Interlocked.Increment(ref failures);
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        });
        await Wait.UntilAsync(() => acknowledged.Count >= 200, "the producer is acknowledged", TimeSpan.FromSeconds(60));

        // The postmaster, as the OOM killer or an operator would end it.
        var pid = int.Parse(File.ReadLines(Path.Combine(directory.Path, "pgdata", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);
        var before = acknowledged.Count;
        await Wait.UntilAsync(() => acknowledged.Count >= before + 200, "the producer is acknowledged again", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await producing;

        Assert.Contains("PostgreSQL started again", broker.Output, StringComparison.Ordinal);
        var expected = acknowledged.ToHashSet();
        var read = await ConsumeClient.PollUntilAsync(broker.Channel,
            ConsumeClient.Subscription("g-" + Guid.NewGuid().ToString("N"), [topic], StartPoint.Types.Kind.Earliest), expected.Count, TimeSpan.FromSeconds(60));
        Assert.Superset(expected, read.Select(e => e.Data.ToStringUtf8()).ToHashSet());
    }

    [Fact]
    public async Task Embedded_postgres_that_cannot_start_again_stops_the_broker_after_its_attempts()
    {
        using var directory = new TestDirectory();
        var settings = DataDirectory(directory);
        settings["EventStream__Embedded__MaxRestartAttempts"] = "2";
        // Each attempt retries for this long while a dead server's processes let go of its memory.
        settings["EventStream__Embedded__Timeout"] = "00:00:10";
        await using var broker = BrokerProcess.Start(settings);
        await broker.WaitUntilServingAsync();

        // Killed, and unable to start: its control file is gone.
        var pgdata = Path.Combine(directory.Path, "pgdata");
        var pid = int.Parse(File.ReadLines(Path.Combine(pgdata, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        await Process.GetProcessById(pid).WaitForExitAsync();
        File.Delete(Path.Combine(pgdata, "global", "pg_control"));

        await broker.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(1, broker.ExitCode);
        Assert.Contains("attempt 1 of 2", broker.Output, StringComparison.Ordinal);
        Assert.Contains("2 of 2 attempts failed", broker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_restarted_by_an_operator_while_a_member_consumes_is_back_at_once_and_consumption_resumes()
    {
        using var directory = new TestDirectory();
        await using var broker = BrokerProcess.Start(DataDirectory(directory));
        await broker.WaitUntilServingAsync();
        var topic = await ProduceClient.CreateTopicAsync(broker.Channel);
        await using var member = await SubscribeSession.JoinAsync(broker.Channel, ConsumeClient.Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]));
        await Wait.UntilAsync(() => member.Shards.Count == 32, "the member holds every shard", TimeSpan.FromSeconds(60));
        // Two transactions received, not committed: the slot's flush position stays behind what was streamed.
        await ProduceRetryingAsync(broker, topic, 0, 50);
        await ProduceRetryingAsync(broker, topic, 50, 50);
        await Wait.UntilAsync(() => member.Received.Count >= 100, "the member received both transactions", TimeSpan.FromSeconds(60));

        var restart = await RestartPostgresAsync(directory);
        // Its walsender would wait for the stream to confirm what it was sent; the broker lets it go.
        Assert.True(restart < TimeSpan.FromSeconds(2), $"The restart took {restart}.\n{broker.Output}");

        await ProduceRetryingAsync(broker, topic, 100, 100);
        await Wait.UntilAsync(() => Enumerable.Range(0, 200).Select(i => "e" + i).ToHashSet()
            .IsSubsetOf(member.Received.Select(r => r.Event.Data.ToStringUtf8())), "every event arrives", TimeSpan.FromSeconds(60));
        Assert.Null(member.Failure);
    }

    [Fact]
    public async Task Postgres_restarted_while_a_stream_is_paused_for_backpressure_is_back_at_once_and_nothing_is_lost()
    {
        using var directory = new TestDirectory();
        var settings = DataDirectory(directory);
        settings["EventStream__Consume__MaxBufferedEvents"] = "100";
        await using var broker = BrokerProcess.Start(settings);
        await broker.WaitUntilServingAsync();
        var topic = await ProduceClient.CreateTopicAsync(broker.Channel);
        var subscription = ConsumeClient.Subscription("g-" + Guid.NewGuid().ToString("N"), [topic]);
        var member = await SubscribeSession.JoinAsync(broker.Channel, subscription);
        await Wait.UntilAsync(() => member.Shards.Count == 32, "the member holds every shard", TimeSpan.FromSeconds(60));
        // Far more than the group may buffer, and than the socket holds: the stream pauses with
        // its walsender blocked on sending.
        const int Events = 8_000;
        var payload = new string('p', 2_000);
        for (var from = 0; from < Events; from += 500)
        {
            await new Producer.ProducerClient(broker.Channel).ProduceAsync(ProduceClient.Batch(topic,
                Enumerable.Range(from, 500).Select(i => ProduceClient.Event("k" + i, "e" + i + payload))));
        }
        await Wait.UntilAsync(() => member.Received.Count >= 100, "the member received what the group buffers", TimeSpan.FromSeconds(60));

        var restart = await RestartPostgresAsync(directory);

        Assert.True(restart < TimeSpan.FromSeconds(2), $"The restart took {restart}.\n{broker.Output}");
        // A commit the broker could not store while the server was away ends the session with
        // UNAVAILABLE; the member joins again, as the SDK does.
        var received = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        try
        {
            while (true)
            {
                received.UnionWith(member.Received.Select(r => r.Event.Data.ToStringUtf8()));
                if (received.Count == Events)
                {
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, $"{received.Count} of {Events} events arrived.\n{broker.Output}");
                try
                {
                    await member.CommitReceivedAsync();
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    await member.DisposeAsync();
                    member = await JoinRetryingAsync(broker, subscription);
                }
                await Task.Delay(100);
            }
        }
        finally
        {
            await member.DisposeAsync();
        }
    }

    private static async Task<SubscribeSession> JoinRetryingAsync(BrokerProcess broker, Subscription subscription)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return await SubscribeSession.JoinAsync(broker.Channel, subscription);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task Health_is_not_serving_until_the_database_is_reachable()
    {
        // A configured server that is not there (yet): the broker keeps trying and says so.
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStream"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=1",
            ["EventStream__Database__StartupTimeout"] = "00:05:00",
        };
        await using var broker = BrokerProcess.Start(environment);
        await broker.WaitForHealthAsync(ServingStatus.NotServing, TimeSpan.FromSeconds(60));

        // So a container health check fails until then.
        var output = new StringWriter();
        Assert.Equal(1, await HealthCommand.RunAsync(["health", broker.Address], output));
        Assert.Contains("NotServing", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_database_stops_the_broker_with_an_error()
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStream"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=1",
            ["EventStream__Database__StartupTimeout"] = "00:00:02",
        };
        await using var broker = BrokerProcess.Start(environment);
        await broker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, broker.ExitCode);
    }

    /// <summary>Restarts the broker's embedded PostgreSQL as an operator would (fast mode); how long it took.</summary>
    private static async Task<TimeSpan> RestartPostgresAsync(TestDirectory directory)
    {
        var restarting = Stopwatch.StartNew();
        var binaries = await PostgresBinaries.LocateAsync(null, null, CancellationToken.None);
        string[] restart = [binaries.Tool("pg_ctl"), "restart", "-D", Path.Combine(directory.Path, "pgdata"), "-m", "fast", "-w", "-t", "60", "-s"];
        using var pgCtl = UnixUser.IsRoot
            ? Process.Start("runuser", ["-u", "postgres", "--", .. restart])!
            : Process.Start(restart[0], restart[1..])!;
        await pgCtl.WaitForExitAsync();
        Assert.Equal(0, pgCtl.ExitCode);
        return restarting.Elapsed;
    }

    private static async Task ProduceRetryingAsync(BrokerProcess broker, string topic, int from, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await new Producer.ProducerClient(broker.Channel).ProduceAsync(
                    ProduceClient.Batch(topic, Enumerable.Range(from, count).Select(i => ProduceClient.Event("k" + i, "e" + i))));
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<string> HolderOfAsync(BrokerProcess broker, string group)
    {
        var described = await new Admin.AdminClient(broker.Channel).DescribeGroupAsync(new DescribeGroupRequest { Group = group });
        Assert.Equal(broker.Address, described.Coordinator.Address);
        return described.Coordinator.BrokerId;
    }

    private static Dictionary<string, string> DataDirectory(TestDirectory directory) =>
        new() { ["EventStream__Embedded__DataDirectory"] = directory.Path };
}
