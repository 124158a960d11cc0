using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace EventStream.Broker.Storage;

/// <summary>Reads the migrations embedded in the broker from <c>sql/*.sql</c>.</summary>
internal static class MigrationSource
{
    private const string Prefix = "sql/";

    /// <summary>The broker's migrations, in version order.</summary>
    public static IReadOnlyList<Migration> Load() => Load(typeof(MigrationSource).Assembly);

    public static IReadOnlyList<Migration> Load(Assembly assembly)
    {
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(Parse(resource[Prefix.Length..], reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Migrations {string.Join(" and ", duplicate.Select(m => m.Name))} share version {duplicate.Key}.");
        }

        return migrations;
    }

    /// <summary>Parses <c>NNN_name.sql</c>.</summary>
    public static Migration Parse(string fileName, string sql)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName);
        var separator = stem.IndexOf('_', StringComparison.Ordinal);
        if (separator <= 0
            || !int.TryParse(stem.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version <= 0)
        {
            throw new InvalidOperationException($"Migration file {fileName} must be named like 001_name.sql.");
        }

        return new Migration(version, stem[(separator + 1)..], sql, Checksum(sql));
    }

    /// <summary>Line ends are normalized so a checkout with CRLF gives the same checksum.</summary>
    public static string Checksum(string sql)
    {
        var normalized = sql.Replace("\r\n", "\n", StringComparison.Ordinal);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
    }
}
