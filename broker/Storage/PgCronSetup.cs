using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>
/// Creates the pg_cron extension where it can work: installed, preloaded by the server, and
/// this is the database named by cron.database_name. Anything else is logged, not fatal.
/// </summary>
internal static class PgCronSetup
{
    // pg_settings rather than SHOW: both settings are superuser-only, and pg_settings hides
    // them (NULL here) from other roles instead of failing.
    private const string Probe = """
        SELECT
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'),
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron'),
            (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'),
            (SELECT setting FROM pg_settings WHERE name = 'cron.database_name'),
            current_database()
        """;

    public static async Task EnsureAsync(NpgsqlConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        string? reason;
        await using (var probe = new NpgsqlCommand(Probe, connection))
        await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.GetBoolean(0))
            {
                return;
            }

            reason = WhyNot(
                available: reader.GetBoolean(1),
                preloaded: reader.IsDBNull(2) ? null : reader.GetString(2),
                cronDatabase: reader.IsDBNull(3) ? null : reader.GetString(3),
                database: reader.GetString(4));
        }

        if (reason is not null)
        {
            StorageLog.PgCronUnavailable(logger, reason);
            return;
        }

        try
        {
            await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_cron", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            StorageLog.PgCronCreated(logger);
        }
        catch (PostgresException e)
        {
            // E.g. no permission on a managed server.
            StorageLog.PgCronFailed(logger, e);
        }
    }

    private static string? WhyNot(bool available, string? preloaded, string? cronDatabase, string database)
    {
        if (!available)
        {
            return "the extension is not installed on the server";
        }

        if (preloaded is null)
        {
            return "this role may not read shared_preload_libraries (not a superuser)";
        }

        var libraries = preloaded.Split(',', StringSplitOptions.TrimEntries).Select(l => l.Trim('"'));
        if (!libraries.Contains("pg_cron", StringComparer.OrdinalIgnoreCase))
        {
            return "the server does not preload it (shared_preload_libraries)";
        }

        return cronDatabase == database ? null : $"cron.database_name is {cronDatabase}, not this database ({database})";
    }
}
