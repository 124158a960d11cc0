using Npgsql;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Replication connections name one server: Npgsql refuses a connection string listing several
/// (a primary and its standbys). With such a list, the server that answers as primary now.
/// </summary>
internal static class ReplicationHost
{
    public static async Task<string> ResolveAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Host is not { } hosts || !hosts.Contains(',', StringComparison.Ordinal))
        {
            return connectionString;
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT host(inet_server_addr()), inet_server_port()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (reader.IsDBNull(0))
        {
            throw new InvalidOperationException("The primary was reached over a Unix socket; list TCP hosts for replication.");
        }
        builder.Host = reader.GetString(0);
        builder.Port = reader.GetInt32(1);
        builder.Remove("Target Session Attributes");
        return builder.ConnectionString;
    }
}
