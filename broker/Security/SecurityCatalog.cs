using System.Collections.Frozen;
using EventStream.Broker.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Security;

/// <summary>The API keys and ACLs in force, as one immutable load.</summary>
internal sealed record SecuritySnapshot(long Version, FrozenDictionary<string, StoredApiKey> ActiveKeys, AclSet Acls);

/// <summary>
/// Keeps the active API keys and the ACLs in memory, so authenticating and authorizing a call never
/// asks the database. Loaded once the database is ready; reloaded when PostgreSQL notifies
/// <c>eventstream_security</c> (any broker's change, through the table triggers), after this broker's
/// own changes before they are answered, and every <see cref="PollInterval"/> in case a notification
/// was lost with its connection.
/// </summary>
internal sealed class SecurityCatalog(
    DatabaseEndpoint database, SecurityStore store, IOptions<SecurityOptions> options, ILogger<SecurityCatalog> logger) : BackgroundService
{
    public const string Channel = "eventstream_security";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile SecuritySnapshot? _current;

    /// <summary>The load in force; null until the first load.</summary>
    public SecuritySnapshot? Current => _current;

    /// <summary>The load in force, waiting (up to <paramref name="timeout"/>) for the first one; UNAVAILABLE past it.</summary>
    public async ValueTask<SecuritySnapshot> GetAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_current is { } current)
        {
            return current;
        }
        try
        {
            await _loaded.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DatabaseNotReadyException();
        }
        return _current!;
    }

    /// <summary>Loads the keys and ACLs again unless the stored version is the one in force (or <paramref name="force"/>).</summary>
    public async Task ReloadAsync(bool force, CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            var version = await store.ReadVersionAsync(cancellationToken);
            if (!force && _current?.Version == version)
            {
                return;
            }
            var keys = await store.ListKeysAsync(principal: null, activeOnly: true, cancellationToken);
            var acls = await store.ListAclsAsync(principal: null, cancellationToken);
            _current = new SecuritySnapshot(version, keys.ToFrozenDictionary(k => k.KeyId, StringComparer.Ordinal),
                new AclSet(acls, options.Value.SuperUsers));
            SecurityLog.CatalogLoaded(logger, version, keys.Count, acls.Count);
            _loaded.TrySetResult();
        }
        finally
        {
            _reloading.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.Ready.WaitAsync(stoppingToken);
        }
        catch (Exception)
        {
            // DatabaseEndpoint logs a failed start and stops the host.
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                SecurityLog.CatalogListenFailed(logger, e);
                await Task.Delay(RetryDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Listens for changes on one connection, reloading after each and every poll interval.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }
        // Listening first, so no change between this load and the first wait goes unnoticed.
        await ReloadAsync(force: _current is null, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            // True on a notification, false when the interval passed: either way, compare versions.
            await connection.WaitAsync(PollInterval, stoppingToken);
            await ReloadAsync(force: false, stoppingToken);
        }
    }
}
