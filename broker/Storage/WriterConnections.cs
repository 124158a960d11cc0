using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>
/// The pool of the produce writer's connections. They run the writer's few statements and leave
/// no session state behind, so, unless the connection string says otherwise, a connection keeps
/// its prepared statements and is not reset each time it goes back to the pool.
/// </summary>
/// <remarks>
/// A produce transaction is small and frequent at a steady load: the reset (<c>DISCARD ALL</c>,
/// a transaction of its own) and parsing and planning each statement again cost PostgreSQL about
/// a seventh of its time per event (docs/performance.md). Other connections keep the default
/// reset: listeners and migrations hold session state.
/// </remarks>
internal static class WriterConnections
{
    public static NpgsqlDataSource Build(string connectionString, ILoggerFactory loggerFactory)
    {
        var given = Keywords(connectionString);
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains(nameof(settings.NoResetOnClose)))
        {
            settings.NoResetOnClose = true;
        }
        if (!given.Contains(nameof(settings.MaxAutoPrepare)))
        {
            // The writer has fewer than ten statements; ones seen twice are prepared.
            settings.MaxAutoPrepare = 32;
        }
        if (!given.Contains(nameof(settings.AutoPrepareMinUsages)))
        {
            settings.AutoPrepareMinUsages = 2;
        }
        var builder = new NpgsqlDataSourceBuilder(settings.ConnectionString);
        builder.UseLoggerFactory(loggerFactory);
        return builder.Build();
    }

    /// <summary>The keywords the connection string sets, spaces left out ("No Reset On Close" is NoResetOnClose).</summary>
    private static HashSet<string> Keywords(string connectionString)
    {
        var parsed = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return parsed.Keys.Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }
}
