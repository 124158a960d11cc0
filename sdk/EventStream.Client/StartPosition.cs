using System.ComponentModel;
using EventStream.Client.Consumer;

namespace EventStream.Client;

/// <summary>
/// Where a consumer group starts reading when it is new: <see cref="Latest"/>, <see cref="Earliest"/> or
/// <see cref="FromTime"/>. A group that exists resumes from its committed positions and ignores it.
/// </summary>
/// <remarks>
/// In configuration, write <c>Latest</c>, <c>Earliest</c> or a time such as <c>2025-01-31T12:00:00Z</c>.
/// </remarks>
[TypeConverter(typeof(StartPositionConverter))]
public sealed record StartPosition
{
    private StartPosition(StartPositionKind kind, DateTimeOffset? time)
    {
        Kind = kind;
        Time = time;
    }

    /// <summary>Only events stored after the group was created. The default.</summary>
    public static StartPosition Latest { get; } = new(StartPositionKind.Latest, null);

    /// <summary>Every event the topics still retain.</summary>
    public static StartPosition Earliest { get; } = new(StartPositionKind.Earliest, null);

    /// <summary>Which start this is.</summary>
    public StartPositionKind Kind { get; }

    /// <summary>The time of a <see cref="StartPositionKind.FromTime"/> start; null otherwise.</summary>
    public DateTimeOffset? Time { get; }

    /// <summary>Events stored at or after <paramref name="time"/>.</summary>
    /// <param name="time">The earliest ingest time to read.</param>
    public static StartPosition FromTime(DateTimeOffset time) => new(StartPositionKind.FromTime, time);

    /// <inheritdoc />
    public override string ToString() => Kind == StartPositionKind.FromTime ? Time!.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : Kind.ToString();
}

/// <summary>The kinds of <see cref="StartPosition"/>.</summary>
public enum StartPositionKind
{
    /// <summary>Only events stored after the group was created.</summary>
    Latest,

    /// <summary>Every event still retained.</summary>
    Earliest,

    /// <summary>Events stored at or after a time.</summary>
    FromTime,
}
