using EventStream.Broker.Storage;
using EventStream.Protocol.V1;

namespace EventStream.Broker.Security;

/// <summary>
/// <c>EventStream.Broker create-api-key &lt;principal&gt; [--admin] [--description text] [configuration...]</c>:
/// the bootstrap for the first admin. Opens the broker's database as configured (starting the
/// embedded PostgreSQL when no connection string is set and no broker holds it), applies the
/// migrations, stores a new key for the principal (with <c>--admin</c>, also an ACL allowing it
/// admin on the cluster, i.e. every right) and prints the key on standard output, once. Exits 0 on
/// success, 1 when the database fails, 2 on bad arguments.
/// </summary>
internal static class CreateApiKeyCommand
{
    public const string Name = "create-api-key";

    public static bool IsInvoked(string[] args) => args is [Name, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        string? principal = null;
        var (admin, description) = (false, "");
        var configuration = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--admin":
                    admin = true;
                    break;
                case "--description" when i + 1 < args.Length:
                    description = args[++i];
                    break;
                case var value when value.StartsWith("--", StringComparison.Ordinal) || principal is not null:
                    configuration.Add(value);
                    break;
                default:
                    principal = args[i];
                    break;
            }
        }
        if (principal is null || principal == AclEntry.AnyPrincipal || principal.Length > SecurityAdmin.MaxPrincipalLength || principal.Any(char.IsControl))
        {
            await error.WriteLineAsync($"usage: EventStream.Broker {Name} <principal> [--admin] [--description text] [--Setting=value ...]");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder([.. configuration]);
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddEventStreamDatabase(builder.Configuration);
        var iterations = SecurityServiceCollectionExtensions.SettingsOf(builder.Configuration).ApiKeys.HashIterations;
        using var host = builder.Build();
        try
        {
            await host.StartAsync();
            var database = host.Services.GetRequiredService<DatabaseEndpoint>();
            await database.Ready;
            var store = new SecurityStore(() => database.DataSource);
            var (keyId, key) = ApiKeySecret.Generate();
            var (salt, hash) = ApiKeySecret.Hash(key, iterations);
            await store.AddKeyAsync(keyId, principal, description, iterations, salt, hash, CancellationToken.None);
            if (admin)
            {
                await store.AddAclAsync(new AclEntry(0, principal, AclResourceType.Cluster, AclPatternType.Literal, "",
                    AclOperation.Admin, AclPermission.Allow, default), CancellationToken.None);
            }
            await error.WriteLineAsync($"Created API key {keyId} for '{principal}'{(admin ? " with admin on the cluster" : "")}. It is shown once:");
            await output.WriteLineAsync(key);
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await error.WriteLineAsync($"Could not create the key: {e.Message}");
            return 1;
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
