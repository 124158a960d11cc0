using System.Collections.Concurrent;

namespace EventStream.Broker.Security;

/// <summary>
/// Presented API keys whose hash check passed, by fingerprint (never the key), so a call with a
/// known key costs a SHA-256 rather than a PBKDF2 run. Bounded and expiring; a revoked key is
/// refused before this cache is asked (it is gone from <see cref="SecurityCatalog"/>), and
/// concurrent first checks of one key share one PBKDF2 run. Failures are not remembered.
/// </summary>
internal sealed class VerifiedKeyCache(int capacity, TimeSpan lifetime, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Whether the key with <paramref name="fingerprint"/> is verified for <paramref name="keyId"/>, running <paramref name="verify"/> when not known.</summary>
    public async ValueTask<bool> IsVerifiedAsync(string fingerprint, string keyId, Func<bool> verify)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(fingerprint, out var known) && known.KeyId == keyId && known.ExpiresAt > now)
        {
            return await known.Verified.Value;
        }
        if (_entries.Count >= capacity)
        {
            Evict(now);
        }
        var entry = new Entry(keyId, now + lifetime, new Lazy<Task<bool>>(() => Task.Run(verify)));
        entry = _entries.AddOrUpdate(fingerprint, entry, (_, old) => old.KeyId == keyId && old.ExpiresAt > now ? old : entry);
        var verified = await entry.Verified.Value;
        if (!verified)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(fingerprint, entry));
        }
        return verified;
    }

    private void Evict(DateTimeOffset now)
    {
        foreach (var (fingerprint, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.TryRemove(fingerprint, out _);
            }
        }
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }
    }

    private sealed record Entry(string KeyId, DateTimeOffset ExpiresAt, Lazy<Task<bool>> Verified);
}
