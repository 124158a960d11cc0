using System.ComponentModel;
using System.Globalization;

namespace EventStream.Client.Consumer;

/// <summary>Reads a <see cref="StartPosition"/> from configuration: <c>Latest</c>, <c>Earliest</c> or a time.</summary>
internal sealed class StartPositionConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is not string text)
        {
            return base.ConvertFrom(context, culture, value);
        }
        text = text.Trim();
        if (text.Equals(nameof(StartPositionKind.Latest), StringComparison.OrdinalIgnoreCase))
        {
            return StartPosition.Latest;
        }
        if (text.Equals(nameof(StartPositionKind.Earliest), StringComparison.OrdinalIgnoreCase))
        {
            return StartPosition.Earliest;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return StartPosition.FromTime(time);
        }
        throw new FormatException($"'{text}' is not a start position: use Latest, Earliest or a time such as 2025-01-31T12:00:00Z.");
    }
}
