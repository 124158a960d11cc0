using System.CommandLine;
using System.Globalization;
using EventStream.Cli.Failures;
using EventStream.Cli.Text;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace EventStream.Cli.Commands;

/// <summary><c>topic create|list|describe|delete|alter</c>.</summary>
internal static class TopicCommands
{
    public static Command Create(IAnsiConsole stdout)
    {
        var topic = new Command("topic", "Create, list, describe, alter and delete topics");
        topic.Subcommands.Add(CreateCommand(stdout));
        topic.Subcommands.Add(ListCommand(stdout));
        topic.Subcommands.Add(DescribeCommand(stdout));
        topic.Subcommands.Add(AlterCommand(stdout));
        topic.Subcommands.Add(DeleteCommand(stdout));
        return topic;
    }

    private static Argument<string> Name() => new("name") { Description = "The topic's name ([A-Za-z0-9._-], up to 249 characters)" };

    private static Option<string?> Retention() => new("--retention") { Description = "How long events are kept, e.g. 1h, 7d (default: the broker's)" };

    private static Option<string?> Description() => new("--description") { Description = "Free text about the topic" };

    private static Command CreateCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var retention = Retention();
        var description = Description();
        var command = new Command("create", "Create a topic") { name, retention, description };
        command.SetAction(async (parse, token) =>
        {
            var request = new CreateTopicRequest { Name = parse.GetValue(name)!, Description = parse.GetValue(description) ?? "" };
            if (parse.GetValue(retention) is { } text)
            {
                request.Retention = Duration.FromTimeSpan(Durations.Parse("--retention", text));
            }
            using var broker = GlobalOptions.Connect(parse);
            var created = await broker.Admin.CreateTopicAsync(request, deadline: Connection.BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"created topic [bold]{created.Name}[/] (retention {Durations.Format(created.Retention.ToTimeSpan())})");
        });
        return command;
    }

    private static Command ListCommand(IAnsiConsole stdout)
    {
        var prefix = new Option<string?>("--prefix") { Description = "Only topics whose name starts with this" };
        var command = new Command("list", "List topics") { prefix };
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            var answer = await broker.Admin.ListTopicsAsync(new ListTopicsRequest { Prefix = parse.GetValue(prefix) ?? "" },
                deadline: Connection.BrokerConnection.Deadline, cancellationToken: token);
            var table = new Table().AddColumns("topic", "retention", "created", "description");
            foreach (var t in answer.Topics)
            {
                table.AddRow(Markup.Escape(t.Name), Durations.Format(t.Retention.ToTimeSpan()), Time(t.CreatedTime), Markup.Escape(t.Description));
            }
            stdout.Write(table);
        });
        return command;
    }

    private static Command DescribeCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var command = new Command("describe", "Show a topic's settings and size") { name };
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            var d = await broker.Admin.DescribeTopicAsync(new DescribeTopicRequest { Name = parse.GetValue(name)! },
                deadline: Connection.BrokerConnection.Deadline, cancellationToken: token);
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("topic", Markup.Escape(d.Topic.Name));
            grid.AddRow("retention", Durations.Format(d.Topic.Retention.ToTimeSpan()));
            grid.AddRow("description", Markup.Escape(d.Topic.Description));
            grid.AddRow("created", Time(d.Topic.CreatedTime));
            grid.AddRow("shards", d.ShardCount.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("events (estimate)", d.ApproximateEventCount.ToString("N0", CultureInfo.InvariantCulture));
            grid.AddRow("bytes (estimate)", d.ApproximateSizeBytes.ToString("N0", CultureInfo.InvariantCulture));
            grid.AddRow("oldest event", Time(d.OldestEventTime));
            grid.AddRow("newest event", Time(d.NewestEventTime));
            stdout.Write(grid);
        });
        return command;
    }

    private static Command AlterCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var retention = Retention();
        var description = Description();
        var command = new Command("alter", "Change a topic's retention or description") { name, retention, description };
        command.SetAction(async (parse, token) =>
        {
            var request = new AlterTopicRequest { Name = parse.GetValue(name)! };
            if (parse.GetValue(retention) is { } text)
            {
                request.Retention = Duration.FromTimeSpan(Durations.Parse("--retention", text));
            }
            if (parse.GetValue(description) is { } about)
            {
                request.Description = about;
            }
            if (request.Retention is null && !request.HasDescription)
            {
                throw new CliException("topic alter: give --retention or --description");
            }
            using var broker = GlobalOptions.Connect(parse);
            var t = await broker.Admin.AlterTopicAsync(request, deadline: Connection.BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"altered topic [bold]{t.Name}[/] (retention {Durations.Format(t.Retention.ToTimeSpan())})");
        });
        return command;
    }

    private static Command DeleteCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var command = new Command("delete", "Delete a topic and its events") { name };
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            await broker.Admin.DeleteTopicAsync(new DeleteTopicRequest { Name = parse.GetValue(name)! },
                deadline: Connection.BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"deleted topic [bold]{parse.GetValue(name)}[/]");
        });
        return command;
    }

    internal static string Time(Timestamp? time) =>
        time is null ? "" : time.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
