using System.CommandLine;
using System.Diagnostics;
using System.Text;
using EventStream.Cli.Connection;
using EventStream.Cli.Failures;
using EventStream.Cli.Output;
using EventStream.Cli.Text;
using EventStream.Client;
using EventStream.Protocol.V1;
using Spectre.Console;

namespace EventStream.Cli.Commands;

/// <summary><c>produce TOPIC</c>: one event per input line, from stdin or a file.</summary>
internal static class ProduceCommand
{
    /// <summary>Events produced before waiting for their acknowledgements, which bounds memory.</summary>
    private const int Window = 20_000;

    public static Command Create(IAnsiConsole stderr)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to produce to" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read lines from this file instead of stdin" };
        var keySeparator = new Option<string?>("--key-separator", "-K") { Description = "Each line is KEY<separator>PAYLOAD (like kcat -K)" };
        var format = new Option<string>("--format") { Description = "Payload format: text or json (each payload must be JSON)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var headers = new Option<string[]>("--header", "-H") { Description = "A header name=value for every event; repeat for more", AllowMultipleArgumentsPerToken = false };
        var rate = new Option<double?>("--rate") { Description = "At most this many events per second" };
        var command = new Command("produce", "Produce each input line as an event") { topic, file, keySeparator, format, headers, rate };
        command.SetAction(async (parse, token) =>
        {
            var name = parse.GetValue(topic)!;
            var lines = new InputLines(parse.GetValue(keySeparator), parse.GetValue(format) == "json");
            var headerValues = InputLines.Headers(parse.GetValue(headers) ?? []);
            var perSecond = parse.GetValue(rate);
            if (perSecond is <= 0)
            {
                throw new CliException("--rate must be positive");
            }
            var input = parse.GetValue(file);
            if (input is { Exists: false })
            {
                throw new CliException($"--file: {input.FullName} does not exist");
            }
            using var broker = GlobalOptions.Connect(parse);
            // Fails fast, with one clear line, on an unknown topic or an unreachable broker.
            await broker.Admin.DescribeTopicAsync(new DescribeTopicRequest { Name = name }, deadline: BrokerConnection.Deadline, cancellationToken: token);

            using var reader = input is null
                ? new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false))
                : new StreamReader(input.FullName, new UTF8Encoding(false));
            var progress = new ProduceProgress();
            await using var producer = broker.CreateProducer();
            var json = parse.GetValue(format) == "json";
            Func<Task> work = () => ProduceLinesAsync(reader, lines, producer, name, headerValues, json, perSecond, progress, token);
            if (ProduceProgress.ShouldShow(input is not null))
            {
                await progress.RunAsync(stderr, input?.Length, work);
            }
            else
            {
                await work();
            }
        });
        return command;
    }

    private static async Task ProduceLinesAsync(StreamReader reader, InputLines lines, EventStreamProducer producer, string topic,
        Dictionary<string, string> headers, bool json, double? perSecond, ProduceProgress progress, CancellationToken token)
    {
        var pending = new List<Task<DeliveryResult>>(Window);
        var clock = Stopwatch.StartNew();
        long number = 0;
        while (await reader.ReadLineAsync(token) is { } line)
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            var (key, payload) = lines.Parse(line, number);
            var e = new ProducerEvent(payload, key)
            {
                Headers = headers.Count > 0 ? headers : null,
                ContentType = json ? "application/json" : null,
            };
            pending.Add(producer.ProduceAsync(topic, e, token));
            progress.Count(InputLines.BytesOf(key, payload));
            if (pending.Count == Window)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
            if (perSecond is { } rate)
            {
                var due = TimeSpan.FromSeconds(progress.Events / rate) - clock.Elapsed;
                if (due > TimeSpan.FromMilliseconds(5))
                {
                    await Task.Delay(due, token);
                }
            }
        }
        await producer.FlushAsync(token);
        await Task.WhenAll(pending);
    }
}
