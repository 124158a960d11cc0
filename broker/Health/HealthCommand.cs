using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace EventStream.Broker.Health;

/// <summary>
/// <c>EventStream.Broker health [address]</c>: asks a running broker's <c>grpc.health.v1</c>
/// service whether it serves, for container health checks (curl does not speak gRPC). Exits 0
/// when the broker answers SERVING, 1 when it answers anything else or cannot be reached, 2 on
/// bad arguments. No host is built and nothing is started.
/// </summary>
internal static class HealthCommand
{
    public const string Name = "health";

    /// <summary>Where the broker listens by default (and in its container image).</summary>
    public const string DefaultAddress = "http://127.0.0.1:7400";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>True when the command line asks for this command rather than a broker.</summary>
    public static bool IsInvoked(string[] args) => args is [Name, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        if (args.Length > 2 || (args.Length == 2 && args[1].StartsWith('-')))
        {
            await output.WriteLineAsync($"usage: EventStream.Broker {Name} [address]   (default {DefaultAddress})");
            return 2;
        }

        var address = args.Length == 2 ? args[1] : DefaultAddress;
        GrpcChannel channel;
        try
        {
            channel = GrpcChannel.ForAddress(address);
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or InvalidOperationException)
        {
            await output.WriteLineAsync($"{address} is not a broker address (e.g. {DefaultAddress}): {e.Message}");
            return 2;
        }

        using (channel)
        {
            try
            {
                var response = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow + Timeout);
                await output.WriteLineAsync($"{address}: {response.Status}");
                return response.Status == ServingStatus.Serving ? 0 : 1;
            }
            catch (RpcException e)
            {
                await output.WriteLineAsync($"{address}: {e.Status}");
                return 1;
            }
        }
    }
}
