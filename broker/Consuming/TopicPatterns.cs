using System.Text.RegularExpressions;
using EventStream.Broker.Validation;
using Grpc.Core;

namespace EventStream.Broker.Consuming;

/// <summary>A group's subscription: exact topic names, and prefixes written as <c>name*</c>.</summary>
internal sealed partial class TopicPatterns
{
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<string> _prefixes = [];

    private TopicPatterns(IReadOnlyList<string> patterns)
    {
        Patterns = patterns;
        foreach (var pattern in patterns)
        {
            if (pattern.EndsWith('*'))
            {
                _prefixes.Add(pattern[..^1]);
            }
            else
            {
                _exact.Add(pattern);
            }
        }
    }

    public IReadOnlyList<string> Patterns { get; }

    [GeneratedRegex(@"\A[A-Za-z0-9._-]{0,249}\*?\z")]
    private static partial Regex ValidPattern();

    /// <summary>Validates and normalizes the topics of a subscription (INVALID_ARGUMENT when wrong).</summary>
    public static TopicPatterns Parse(IEnumerable<string> patterns)
    {
        var list = patterns.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (list.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Subscribe to at least one topic (a name, or a prefix ending in '*')."));
        }
        foreach (var pattern in list)
        {
            if (pattern.Length == 0 || !ValidPattern().IsMatch(pattern))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"Invalid topic pattern '{RequestRules.Echo(pattern)}': use a topic name, or a prefix of one followed by '*'."));
            }
        }
        return new TopicPatterns(list);
    }

    public bool Matches(string topic)
    {
        if (_exact.Contains(topic))
        {
            return true;
        }
        foreach (var prefix in _prefixes)
        {
            if (topic.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
