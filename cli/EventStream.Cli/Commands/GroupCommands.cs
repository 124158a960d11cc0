using System.CommandLine;
using System.Globalization;
using EventStream.Cli.Connection;
using EventStream.Cli.Failures;
using EventStream.Client;
using EventStream.Protocol.V1;
using Spectre.Console;

namespace EventStream.Cli.Commands;

/// <summary><c>group list|describe|reset|delete</c>.</summary>
internal static class GroupCommands
{
    public static Command Create(IAnsiConsole stdout)
    {
        var group = new Command("group", "List, describe, reset and delete consumer groups");
        group.Subcommands.Add(ListCommand(stdout));
        group.Subcommands.Add(DescribeCommand(stdout));
        group.Subcommands.Add(ResetCommand(stdout));
        group.Subcommands.Add(DeleteCommand(stdout));
        return group;
    }

    private static Argument<string> Name() => new("group") { Description = "The consumer group" };

    private static Command ListCommand(IAnsiConsole stdout)
    {
        var command = new Command("list", "List consumer groups");
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            var answer = await broker.Admin.ListGroupsAsync(new ListGroupsRequest(), deadline: BrokerConnection.Deadline, cancellationToken: token);
            var table = new Table().AddColumns("group", "topics", "members");
            foreach (var g in answer.Groups)
            {
                table.AddRow(Markup.Escape(g.Group), Markup.Escape(string.Join(", ", g.Topics)), g.MemberCount.ToString(CultureInfo.InvariantCulture));
            }
            stdout.Write(table);
        });
        return command;
    }

    private static Command DescribeCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var all = new Option<bool>("--all-shards") { Description = "List every shard, also those with no owner, commit or lag" };
        var command = new Command("describe", "Show a group's members and, per shard, owner, committed event and lag") { name, all };
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            var d = await broker.Admin.DescribeGroupAsync(new DescribeGroupRequest { Group = parse.GetValue(name)! },
                deadline: BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"group [bold]{d.Group}[/]  topics {string.Join(", ", d.Topics)}  members {d.Members.Count}  slot lag {d.SlotLagBytes:N0} bytes");
            stdout.MarkupLineInterpolated($"running on {(d.Coordinator is { } c ? c.Address : "no broker")}");
            if (d.Members.Count > 0)
            {
                var members = new Table().AddColumns("member", "shards", "last heartbeat");
                foreach (var m in d.Members)
                {
                    members.AddRow(Markup.Escape(m.MemberId), string.Join(",", m.Shards), TopicCommands.Time(m.LastHeartbeat));
                }
                stdout.Write(members);
            }
            var shards = new Table().AddColumns("shard", "owner", "epoch", "committed event", "lag events", "lag bytes");
            foreach (var s in d.Shards.Where(s => parse.GetValue(all) || s.Owner.Length > 0 || s.Committed is not null || s.LagEvents > 0))
            {
                shards.AddRow(
                    s.Shard.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(s.Owner),
                    s.Epoch.ToString(CultureInfo.InvariantCulture),
                    s.Committed is { } p ? p.EventId.ToString(CultureInfo.InvariantCulture) : "",
                    s.LagEvents.ToString("N0", CultureInfo.InvariantCulture),
                    s.LagBytes.ToString("N0", CultureInfo.InvariantCulture));
            }
            stdout.Write(shards);
            var lag = d.Shards.Sum(s => s.LagEvents);
            stdout.MarkupLineInterpolated($"total lag {lag:N0} events");
        });
        return command;
    }

    private static Command ResetCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var start = new StartOptions();
        var command = new Command("reset", "Move a group (whose members have left) to a start point") { name };
        start.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var from = start.Read(parse, StartPosition.Latest);
            if (!parse.GetValue(start.Earliest) && !parse.GetValue(start.Latest) && parse.GetValue(start.Since) is null && parse.GetValue(start.At) is null)
            {
                throw new CliException("group reset: give --earliest, --latest, --since or --at");
            }
            using var broker = GlobalOptions.Connect(parse);
            await broker.Admin.ResetGroupAsync(new ResetGroupRequest { Group = parse.GetValue(name)!, Start = StartOptions.ToMessage(from) },
                deadline: BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"reset group [bold]{parse.GetValue(name)}[/] to {from}");
        });
        return command;
    }

    private static Command DeleteCommand(IAnsiConsole stdout)
    {
        var name = Name();
        var command = new Command("delete", "Delete a group, its positions and its replication slots") { name };
        command.SetAction(async (parse, token) =>
        {
            using var broker = GlobalOptions.Connect(parse);
            await broker.Admin.DeleteGroupAsync(new DeleteGroupRequest { Group = parse.GetValue(name)! },
                deadline: BrokerConnection.Deadline, cancellationToken: token);
            stdout.MarkupLineInterpolated($"deleted group [bold]{parse.GetValue(name)}[/]");
        });
        return command;
    }
}
