using System.Globalization;
using Npgsql;

namespace EventStream.Benchmarks;

/// <summary>
/// What PostgreSQL did in a run, from its statistics: transactions committed and WAL written.
/// Says how many transactions a load costs, the main driver of PostgreSQL's CPU at low rates.
/// </summary>
internal sealed class DatabaseMeter
{
    private readonly NpgsqlDataSource _database;
    private readonly (long Commits, long WalBytes) _start;

    private DatabaseMeter(NpgsqlDataSource database, (long, long) start) => (_database, _start) = (database, start);

    public static async Task<DatabaseMeter> StartAsync(NpgsqlDataSource database) => new(database, await SnapshotAsync(database));

    /// <summary>Transactions and WAL bytes per <paramref name="per"/> events since the start.</summary>
    public async Task<string> PerAsync(int events, int per)
    {
        var (commits, walBytes) = await SnapshotAsync(_database);
        return string.Create(CultureInfo.InvariantCulture,
            $"transactions {(commits - _start.Commits) * (double)per / events:N0}  WAL {(walBytes - _start.WalBytes) * (double)per / events / 1e6:N1} MB");
    }

    private static async Task<(long, long)> SnapshotAsync(NpgsqlDataSource database)
    {
        // Statistics are sent by backends at most every second or at idle: force this backend's.
        await using var command = database.CreateCommand(
            "SELECT (SELECT sum(xact_commit)::bigint FROM pg_stat_database), pg_current_wal_lsn() - '0/0'::pg_lsn");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), (long)reader.GetDecimal(1));
    }
}
