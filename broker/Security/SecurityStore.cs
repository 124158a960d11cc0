using EventStream.Protocol.V1;
using Npgsql;

namespace EventStream.Broker.Security;

/// <summary>An API key as stored: its hash, never the key.</summary>
internal sealed record StoredApiKey(
    string KeyId, string Principal, string Description, int Iterations, byte[] Salt, byte[] Hash, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>API keys and ACLs in PostgreSQL (<c>sql/012_security.sql</c>); every change bumps the security version.</summary>
internal sealed class SecurityStore(Func<NpgsqlDataSource> database)
{
    private const string KeyColumns = "key_id, principal, description, iterations, salt, hash, created_at, revoked_at";
    private const string AclColumns = "acl_id, principal, resource_type, pattern_type, resource_name, operation, permission, created_at";

    public async Task<StoredApiKey> AddKeyAsync(string keyId, string principal, string description, int iterations, byte[] salt, byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand(
            "INSERT INTO eventstream.api_keys (key_id, principal, description, iterations, salt, hash) " +
            $"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KeyColumns}");
        command.Parameters.Add(new() { Value = keyId });
        command.Parameters.Add(new() { Value = principal });
        command.Parameters.Add(new() { Value = description });
        command.Parameters.Add(new() { Value = iterations });
        command.Parameters.Add(new() { Value = salt });
        command.Parameters.Add(new() { Value = hash });
        return (await ReadKeysAsync(command, cancellationToken))[0];
    }

    /// <summary>Keys of <paramref name="principal"/> (all when null), revoked ones included unless <paramref name="activeOnly"/>.</summary>
    public async Task<List<StoredApiKey>> ListKeysAsync(string? principal, bool activeOnly, CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand(
            $"SELECT {KeyColumns} FROM eventstream.api_keys WHERE ($1::text IS NULL OR principal = $1) " +
            "AND (NOT $2 OR revoked_at IS NULL) ORDER BY principal, created_at");
        command.Parameters.Add(new() { Value = (object?)principal ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = activeOnly });
        return await ReadKeysAsync(command, cancellationToken);
    }

    /// <summary>Revokes a key; false when no such key exists (revoking twice is fine).</summary>
    public async Task<bool> RevokeKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand(
            "UPDATE eventstream.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1");
        command.Parameters.Add(new() { Value = keyId });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<AclEntry> AddAclAsync(AclEntry entry, CancellationToken cancellationToken)
    {
        // Adding an entry that exists answers the existing one.
        await using var command = database().CreateCommand(
            "WITH added AS (INSERT INTO eventstream.acls (principal, resource_type, pattern_type, resource_name, operation, permission) " +
            $"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING {AclColumns}) " +
            $"SELECT {AclColumns} FROM added UNION ALL SELECT {AclColumns} FROM eventstream.acls " +
            "WHERE principal = $1 AND resource_type = $2 AND pattern_type = $3 AND resource_name = $4 AND operation = $5 AND permission = $6 LIMIT 1");
        command.Parameters.Add(new() { Value = entry.Principal });
        command.Parameters.Add(new() { Value = AclEntry.Spell(entry.ResourceType) });
        command.Parameters.Add(new() { Value = AclEntry.Spell(entry.PatternType) });
        command.Parameters.Add(new() { Value = entry.ResourceName });
        command.Parameters.Add(new() { Value = AclEntry.Spell(entry.Operation) });
        command.Parameters.Add(new() { Value = AclEntry.Spell(entry.Permission) });
        return (await ReadAclsAsync(command, cancellationToken))[0];
    }

    public async Task<List<AclEntry>> ListAclsAsync(string? principal, CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand(
            $"SELECT {AclColumns} FROM eventstream.acls WHERE ($1::text IS NULL OR principal = $1) ORDER BY acl_id");
        command.Parameters.Add(new() { Value = (object?)principal ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return await ReadAclsAsync(command, cancellationToken);
    }

    public async Task<bool> RemoveAclAsync(long aclId, CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand("DELETE FROM eventstream.acls WHERE acl_id = $1");
        command.Parameters.Add(new() { Value = aclId });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<long> ReadVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = database().CreateCommand("SELECT version FROM eventstream.security_version");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<List<StoredApiKey>> ReadKeysAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var keys = new List<StoredApiKey>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new StoredApiKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<byte[]>(5), reader.GetDateTime(6),
                reader.IsDBNull(7) ? null : reader.GetDateTime(7)));
        }
        return keys;
    }

    private static async Task<List<AclEntry>> ReadAclsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<AclEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AclEntry(reader.GetInt64(0), reader.GetString(1), AclEntry.ParseResourceType(reader.GetString(2)),
                AclEntry.ParsePatternType(reader.GetString(3)), reader.GetString(4), AclEntry.ParseOperation(reader.GetString(5)),
                AclEntry.ParsePermission(reader.GetString(6)), reader.GetDateTime(7)));
        }
        return entries;
    }
}
