using EventStream.Broker.Validation;
using Grpc.Core;

namespace EventStream.Broker.Topics;

/// <summary>The topic name rule (shared with group names, see <see cref="RequestRules.IsName"/>) and its message.</summary>
internal static class TopicNames
{
    public const int MaxDescriptionLength = 4096;

    /// <summary>Throws INVALID_ARGUMENT unless the name matches \A[A-Za-z0-9._-]{1,249}\z.</summary>
    public static void Validate(string name) => Validate(name, "topic");

    /// <summary>Throws INVALID_ARGUMENT naming <paramref name="what"/> ("topic", "group") unless the name is valid.</summary>
    public static void Validate(string name, string what)
    {
        if (!RequestRules.IsName(name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Invalid {what} name '{RequestRules.Echo(name)}': use 1 to {RequestRules.MaxNameLength} characters from A-Z, a-z, 0-9, '.', '_' and '-'."));
        }
    }
}
