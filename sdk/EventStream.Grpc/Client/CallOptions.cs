namespace EventStream.Grpc.Client;

/// <summary>Per-call settings.</summary>
/// <param name="Headers">Metadata sent with the request.</param>
/// <param name="Deadline">When the call must be over (UTC); the server is told the remaining time.</param>
/// <param name="CancellationToken">Cancels the call on both sides.</param>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTime? Deadline = null,
    CancellationToken CancellationToken = default)
{
    /// <summary>Options with a deadline that many from now.</summary>
    public static CallOptions WithTimeout(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(Deadline: DateTime.UtcNow + timeout, CancellationToken: cancellationToken);
}
