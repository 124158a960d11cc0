namespace EventStream.Broker.Storage;

/// <summary>One versioned file of <c>sql/</c>, e.g. <c>001_schema.sql</c>.</summary>
/// <param name="Version">The number before the first underscore.</param>
/// <param name="Name">The rest of the file name, without the extension.</param>
/// <param name="Sql">The file's text.</param>
/// <param name="Checksum">SHA-256 of the text with LF line ends, lower-case hex.</param>
public sealed record Migration(int Version, string Name, string Sql, string Checksum);
