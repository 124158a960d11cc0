using System.Text.RegularExpressions;
using Grpc.Core;

namespace EventStream.Broker.Topics;

internal static partial class TopicNames
{
    public const int MaxDescriptionLength = 4096;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex ValidName();

    /// <summary>Throws INVALID_ARGUMENT unless the name matches ^[A-Za-z0-9._-]{1,249}$.</summary>
    public static void Validate(string name)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Invalid topic name '{Shorten(name)}': use 1 to 249 characters from A-Z, a-z, 0-9, '.', '_' and '-'."));
        }
    }

    private static string Shorten(string name) => name.Length <= 64 ? name : name[..64] + "...";
}
