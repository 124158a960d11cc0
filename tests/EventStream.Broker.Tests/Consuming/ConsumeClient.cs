using Grpc.Core;
using Grpc.Net.Client;
using EventStream.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Tests.Consuming;

/// <summary>Helpers over the raw Consumer contract, as grpcurl users drive it.</summary>
internal static class ConsumeClient
{
    public static Subscription Subscription(string group, string[] topics, StartPoint.Types.Kind start = StartPoint.Types.Kind.Latest, string memberId = "", TimeSpan? session = null) => new()
    {
        Group = group,
        MemberId = memberId,
        Topics = { topics },
        Start = new StartPoint { Kind = start },
        SessionTimeout = Duration.FromTimeSpan(session ?? TimeSpan.FromSeconds(10)),
    };

    /// <summary>Polls until <paramref name="count"/> events arrived (committing each poll), or the time is up.</summary>
    /// <param name="retryUnavailable">Poll again after UNAVAILABLE, e.g. while a killed broker's coordinator lease lasts.</param>
    public static async Task<List<Event>> PollUntilAsync(GrpcChannel channel, Subscription subscription, int count, TimeSpan timeout, bool commit = true, bool retryUnavailable = false)
    {
        var events = new List<Event>();
        var deadline = DateTime.UtcNow + timeout;
        while (events.Count < count && DateTime.UtcNow < deadline)
        {
            PollResponse response;
            try
            {
                response = await new Consumer.ConsumerClient(channel).PollAsync(new PollRequest
                {
                    Subscription = subscription,
                    MaxEvents = 1000,
                    MaxWait = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(300)),
                }).ResponseAsync;
            }
            catch (RpcException e) when (retryUnavailable && e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                continue;
            }
            subscription.MemberId = response.MemberId;
            events.AddRange(response.Events);
            if (commit && response.Commits.Count > 0)
            {
                await new Consumer.ConsumerClient(channel).CommitAsync(new CommitRequest { Group = subscription.Group, MemberId = response.MemberId, Commits = { response.Commits } }).ResponseAsync;
            }
        }
        return events;
    }
}
