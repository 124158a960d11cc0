using System.Globalization;
using Npgsql;

namespace EventStream.Testing;

/// <summary>Connects to the embedded PostgreSQL a broker runs in a data directory, to check what it stored.</summary>
public static class EmbeddedDatabase
{
    /// <summary>
    /// The connection string, from the port and password files the broker keeps in the data
    /// directory (see broker/Embedded/DataDirectoryLayout.cs).
    /// </summary>
    public static string ConnectionString(string dataDirectory)
    {
        var portFile = Path.Combine(dataDirectory, "port");
        if (!File.Exists(portFile))
        {
            throw new InvalidOperationException($"No broker has started PostgreSQL in {dataDirectory}.");
        }
        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = int.Parse(File.ReadAllText(portFile).Trim(), CultureInfo.InvariantCulture),
            Username = "eventstream",
            Password = File.ReadAllText(Path.Combine(dataDirectory, "password")).Trim(),
            Database = "eventstream",
        }.ConnectionString;
    }
}
