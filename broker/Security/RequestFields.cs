using System.Collections;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace EventStream.Broker.Security;

/// <summary>
/// Reads the resource names an access rule points at (a proto field path such as
/// <c>subscription.topics</c>) from a request message, through protobuf reflection; each path is
/// resolved once per message type.
/// </summary>
internal static class RequestFields
{
    private static readonly ConcurrentDictionary<(MessageDescriptor, string), FieldDescriptor[]> Paths = new();

    /// <summary>The names at <paramref name="path"/>: none when a message on the way is unset; one per element of a repeated field.</summary>
    public static IEnumerable<string> Read(IMessage message, string path)
    {
        var fields = Resolve(message.Descriptor, path);
        object? value = message;
        foreach (var field in fields)
        {
            if (value is not IMessage current)
            {
                return [];
            }
            // An unset message field of a oneof or singular message reads as null.
            if (field.FieldType == FieldType.Message && !field.IsRepeated && !field.Accessor.HasValue(current))
            {
                return [];
            }
            value = field.Accessor.GetValue(current);
        }
        return value switch
        {
            string name => [name],
            IEnumerable names => names.Cast<string>(),
            _ => [],
        };
    }

    /// <summary>The fields along <paramref name="path"/>; throws when the path names no string field (a bug in a rule).</summary>
    public static FieldDescriptor[] Resolve(MessageDescriptor descriptor, string path) => Paths.GetOrAdd((descriptor, path), static key =>
    {
        var (type, dotted) = key;
        var fields = new List<FieldDescriptor>();
        foreach (var part in dotted.Split('.'))
        {
            var field = type?.FindFieldByName(part)
                ?? throw new InvalidOperationException($"Access rule field '{dotted}' is not a field of {key.Item1.FullName}.");
            fields.Add(field);
            type = field.FieldType == FieldType.Message ? field.MessageType : null;
        }
        if (fields[^1].FieldType != FieldType.String)
        {
            throw new InvalidOperationException($"Access rule field '{dotted}' of {key.Item1.FullName} is not a string field.");
        }
        return [.. fields];
    });
}
