using System.CommandLine;
using EventStream.Cli.Connection;
using EventStream.Cli.Failures;
using EventStream.Cli.Output;
using EventStream.Client;
using EventStream.Protocol.V1;

namespace EventStream.Cli.Commands;

/// <summary>
/// <c>consume TOPIC</c>: without <c>--group</c> a group-less Read (nothing remembered, no slot);
/// with it a real member of the group that commits what it printed.
/// </summary>
internal static class ConsumeCommand
{
    /// <summary>Without --follow, a group member stops once no event came this long (the join itself may take seconds).</summary>
    private static readonly TimeSpan GroupIdle = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan GroupFirstEventWait = TimeSpan.FromSeconds(30);

    public static Command Create(TextWriter stdout)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to read" };
        var group = new Option<string?>("--group", "-g") { Description = "Consume as a member of this consumer group, committing what is printed" };
        var start = new StartOptions();
        var count = new Option<long?>("--count", "-c") { Description = "Stop after this many events" };
        var follow = new Option<bool>("--follow") { Description = "Keep waiting for new events until Ctrl-C" };
        var format = new Option<string>("--format") { Description = "text (payloads), json (one object per line) or a kcat-like format such as '%k:%s\\n'", DefaultValueFactory = _ => "text" };
        var shards = new Option<int[]>("--shard") { Description = "Only these shards (without --group); repeat for more" };
        var command = new Command("consume", "Print a topic's events") { topic, group, count, follow, format, shards };
        start.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var name = parse.GetValue(topic)!;
            var formatter = new EventFormatter(parse.GetValue(format)!);
            var limit = parse.GetValue(count);
            if (limit is <= 0)
            {
                throw new CliException("--count must be positive");
            }
            var from = start.Read(parse, StartPosition.Earliest);
            using var broker = GlobalOptions.Connect(parse);
            await broker.Admin.DescribeTopicAsync(new DescribeTopicRequest { Name = name }, deadline: BrokerConnection.Deadline, cancellationToken: token);
            var output = new Output.BufferedOutput(stdout, parse.GetValue(follow));
            try
            {
                if (parse.GetValue(group) is { } groupName)
                {
                    if (parse.GetValue(shards) is { Length: > 0 })
                    {
                        throw new CliException("--shard is for reads without --group: a group's shards are assigned to its members");
                    }
                    await ConsumeAsGroupAsync(broker, groupName, name, from, limit, parse.GetValue(follow), formatter, output, token);
                }
                else
                {
                    var options = new ReadOptions { Start = from, MaxEvents = limit, Follow = parse.GetValue(follow), Shards = parse.GetValue(shards) ?? [] };
                    await using var reader = broker.CreateReader();
                    await foreach (var e in reader.ReadAsync(name, options, token))
                    {
                        formatter.Write(output.Writer, e);
                        output.EventWritten();
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Ctrl-C: a clean end, not a failure.
            }
            catch (IOException) when (!StdoutOpen(output))
            {
                // The reader of the pipe went away (`| head -5`): done, as with any shell tool.
                return;
            }
            try
            {
                output.Flush();
            }
            catch (IOException)
            {
            }
        });
        return command;
    }

    private static bool StdoutOpen(Output.BufferedOutput output)
    {
        try
        {
            output.Flush();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task ConsumeAsGroupAsync(BrokerConnection broker, string group, string topic, StartPosition from, long? limit, bool follow,
        EventFormatter formatter, Output.BufferedOutput output, CancellationToken token)
    {
        await using var consumer = broker.CreateConsumer(options =>
        {
            options.Group = group;
            options.Topics.Add(topic);
            options.StartPosition = from;
        });
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(token);
        if (!follow)
        {
            idle.CancelAfter(GroupFirstEventWait);
        }
        long printed = 0;
        ConsumedEvent? last = null;
        try
        {
            await foreach (var e in consumer.ConsumeAsync(idle.Token))
            {
                formatter.Write(output.Writer, e);
                output.EventWritten();
                last = e;
                printed++;
                if (limit is { } most && printed >= most)
                {
                    break;
                }
                if (!follow)
                {
                    idle.CancelAfter(GroupIdle);
                }
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested)
        {
            // Caught up (nothing new within the idle time), or Ctrl-C: either way, commit what was printed.
        }
        output.Flush();
        if (last is not null)
        {
            // The last event printed counts as processed too; the others were marked as the loop went on.
            using var commitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await consumer.CommitAsync(last, commitTimeout.Token);
            await consumer.CommitAsync(commitTimeout.Token);
        }
    }
}
