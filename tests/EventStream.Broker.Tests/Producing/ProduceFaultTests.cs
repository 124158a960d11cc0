using EventStream.Protocol.V1;
using EventStream.Broker.Embedded;
using Grpc.Core;
using EventStream.Testing;
using Npgsql;
using static EventStream.Broker.Tests.Producing.ProduceClient;

namespace EventStream.Broker.Tests.Producing;

public sealed class ProduceFaultTests
{
    [Fact]
    public async Task Restarting_postgres_under_load_loses_no_acknowledged_event()
    {
        using var directory = new TestDirectory();
        await using var broker = BrokerProcess.Start(new Dictionary<string, string> { ["EventStream__Embedded__DataDirectory"] = directory.Path });
        await broker.WaitUntilServingAsync();
        var topic = await CreateTopicAsync(broker.Channel);

        var acknowledged = new List<long>();
        var failures = new List<StatusCode>();
        var restarted = false;
        var acksAfterRestart = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 0; DateTime.UtcNow < deadline && acksAfterRestart < 50; i++)
        {
            if (i == 50)
            {
                await RestartPostgresAsync(directory.Path);
                restarted = true;
            }
            try
            {
                var response = await new Producer.ProducerClient(broker.Channel).ProduceAsync(Batch(topic, Enumerable.Range(0, 20).Select(j => Event("k" + (j % 5), $"{i}-{j}")))).ResponseAsync;
                acknowledged.AddRange(response.Deliveries().Select(d => d.EventId));
                acksAfterRestart += restarted ? 1 : 0;
            }
            catch (RpcException e)
            {
                failures.Add(e.StatusCode);
                await Task.Delay(50);
            }
        }

        Assert.True(restarted);
        Assert.True(acksAfterRestart >= 50, $"Only {acksAfterRestart} batches were acknowledged after the restart.");
        Assert.All(failures, code => Assert.Equal(StatusCode.Unavailable, code));

        await using var database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(directory.Path));
        var stored = (await StoredAsync(database, topic)).Select(s => s.EventId).ToHashSet();
        Assert.All(acknowledged, id => Assert.Contains(id, stored));
        Assert.Equal(acknowledged.Count, acknowledged.Distinct().Count());
    }

    private static async Task RestartPostgresAsync(string dataDirectory)
    {
        var layout = DataDirectoryLayout.Create(dataDirectory);
        var binaries = await PostgresBinaries.LocateAsync(null, DataDirectoryLayout.ReadClusterMajorVersion(dataDirectory), CancellationToken.None);
        var pgCtl = binaries.Tool("pg_ctl");
        string[] arguments = ["restart", "-D", layout.Cluster, "-m", "fast", "-w", "-t", "60", "-l", layout.LogFile];
        await using var restart = Environment.UserName == "root"
            ? ExternalProcess.Start("runuser", ["-u", "postgres", "--", pgCtl, .. arguments])
            : ExternalProcess.Start(pgCtl, arguments);
        await restart.ReadAllJsonAsync(TimeSpan.FromSeconds(90));
        Assert.True(restart.ExitCode == 0, restart.Output);
    }
}
