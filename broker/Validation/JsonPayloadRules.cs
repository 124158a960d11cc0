using Google.Protobuf.WellKnownTypes;

namespace EventStream.Broker.Validation;

/// <summary>
/// Checks a JSON payload given as a <c>google.protobuf.Value</c> before it is written as JSON text:
/// every value has a kind, numbers are finite (JSON has no NaN or Infinity), and strings and keys
/// are valid text. Walks without recursion; the protobuf parser bounds the nesting.
/// </summary>
internal static class JsonPayloadRules
{
    public static void Check(string field, Value root)
    {
        var pending = new Stack<Value>();
        pending.Push(root);
        while (pending.TryPop(out var value))
        {
            switch (value.KindCase)
            {
                case Value.KindOneofCase.None:
                    throw RequestRules.Invalid(field, "holds a value with no kind set (null, number, string, bool, struct or list)");
                case Value.KindOneofCase.NumberValue when !double.IsFinite(value.NumberValue):
                    throw RequestRules.Invalid(field, "holds NaN or Infinity, which JSON cannot represent");
                case Value.KindOneofCase.StringValue:
                    RequestRules.CheckCharacters(field, value.StringValue, allowNul: true);
                    break;
                case Value.KindOneofCase.ListValue:
                    foreach (var item in value.ListValue.Values)
                    {
                        pending.Push(item);
                    }
                    break;
                case Value.KindOneofCase.StructValue:
                    foreach (var (name, item) in value.StructValue.Fields)
                    {
                        RequestRules.CheckCharacters(field, name, allowNul: true);
                        pending.Push(item);
                    }
                    break;
            }
        }
    }
}
