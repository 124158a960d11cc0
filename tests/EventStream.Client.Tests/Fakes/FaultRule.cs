using Grpc.Core;
using EventStream.Protocol.V1;

namespace EventStream.Client.Tests.Fakes;

/// <summary>What an injected fault does to a Produce call.</summary>
public enum FaultKind
{
    /// <summary>Fail with <see cref="FaultRule.Code"/> before storing anything.</summary>
    Fail,

    /// <summary>Fail with <see cref="FaultRule.Code"/> after storing the batch (calls that store nothing do not count): the answer is lost.</summary>
    StoreThenFail,

    /// <summary>Only wait <see cref="FaultRule.Delay"/>, then handle the call normally.</summary>
    Delay,
}

/// <summary>A fault for the next <see cref="Times"/> calls that match <see cref="When"/>.</summary>
public sealed class FaultRule(FaultKind kind, StatusCode code = StatusCode.Unavailable)
{
    public FaultKind Kind { get; } = kind;

    public StatusCode Code { get; } = code;

    /// <summary>How many calls it applies to; int.MaxValue for all.</summary>
    public int Times { get; init; } = 1;

    /// <summary>Waited before the call is handled (<see cref="FaultKind.Delay"/> and <see cref="FaultKind.Fail"/>).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Awaited before the call is handled, like <see cref="Delay"/>: holds calls until the test opens it.</summary>
    public Task? Gate { get; init; }

    /// <summary>Which calls it applies to; all when null.</summary>
    public Func<ProduceRequest, bool>? When { get; init; }

    internal int Used { get; set; }
}

/// <summary>One Produce call as the fake broker saw it.</summary>
public sealed record CallRecord(string Topic, string ProducerId, long FirstSequence, int Count, StatusCode Outcome);

/// <summary>One stored event.</summary>
public sealed record StoredEvent(string Topic, int Shard, long EventId, EventData Data, string ProducerId, long Sequence);
