using System.Security.Cryptography;
using System.Text;

namespace EventStream.Broker.Consuming;

/// <summary>Replication slot names: lower-case letters, digits and '_', at most 63 characters.</summary>
internal static class SlotNames
{
    public const string Prefix = "eventstream_";

    /// <summary>The slot of a group: readable, and unique through a hash of the exact group name.</summary>
    public static string ForGroup(string group)
    {
        var readable = new StringBuilder();
        foreach (var c in group.ToLowerInvariant())
        {
            readable.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
            if (readable.Length == 32)
            {
                break;
            }
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(group)))[..12];
        return $"{Prefix}{readable}_{hash}";
    }
}
