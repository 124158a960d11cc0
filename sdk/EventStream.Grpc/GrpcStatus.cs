namespace EventStream.Grpc;

/// <summary>The outcome of a gRPC call: a code and a human-readable detail.</summary>
/// <param name="Code">The status code.</param>
/// <param name="Detail">A message for people; may be empty.</param>
public readonly record struct GrpcStatus(GrpcStatusCode Code, string Detail)
{
    /// <summary>The status of a successful call.</summary>
    public static GrpcStatus Ok { get; } = new(GrpcStatusCode.OK, "");

    /// <inheritdoc />
    public override string ToString() => Detail.Length == 0 ? Code.ToString() : $"{Code}: {Detail}";
}
