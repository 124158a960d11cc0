using EventStream.Client;
using Grpc.Core;

namespace EventStream.Cli.Failures;

/// <summary>Turns any failure into one line for stderr and an exit code: no stack traces.</summary>
internal static class ErrorReport
{
    public static (string Line, int ExitCode) Describe(Exception failure, string broker) => failure switch
    {
        CliException e => (e.Message, e.ExitCode),
        EventStreamException { InnerException: RpcException rpc } => Describe(rpc, broker),
        EventStreamException e => (e.Message, CodeOf(e.StatusCode)),
        RpcException e => (Detail(e, broker), CodeOf(e.StatusCode)),
        IOException e => (e.Message, ExitCodes.Failed),
        UnauthorizedAccessException e => (e.Message, ExitCodes.Failed),
        _ => ($"unexpected failure: {failure.GetType().Name}: {failure.Message}", ExitCodes.Failed),
    };

    public static void Write(TextWriter stderr, string line) =>
        stderr.WriteLine("eventstream: " + line.ReplaceLineEndings(" ").Trim());

    private static string Detail(RpcException e, string broker) => e.StatusCode switch
    {
        StatusCode.Unavailable when e.Status.DebugException is not null || e.Status.Detail.Contains("connect", StringComparison.OrdinalIgnoreCase)
            => $"cannot reach the broker at {broker} ({Innermost(e.Status.DebugException)?.Message ?? e.Status.Detail})",
        StatusCode.DeadlineExceeded => $"the broker at {broker} did not answer in time",
        _ => e.Status.Detail.Length > 0 ? e.Status.Detail : e.StatusCode.ToString(),
    };

    private static Exception? Innermost(Exception? e)
    {
        while (e?.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }

    private static int CodeOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange => ExitCodes.Usage,
        StatusCode.NotFound or StatusCode.AlreadyExists => ExitCodes.NotFound,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => ExitCodes.Unavailable,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => ExitCodes.Denied,
        _ => ExitCodes.Failed,
    };
}
