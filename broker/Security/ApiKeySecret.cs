using System.Security.Cryptography;
using System.Text;

namespace EventStream.Broker.Security;

/// <summary>
/// API keys: <c>esk_&lt;key id&gt;_&lt;secret&gt;</c>, a 16-hex-digit id (stored, shown in lists) and 32
/// random bytes (base64url). Only a salted PBKDF2-HMAC-SHA-256 hash of the whole key is stored;
/// checking one is slow by design, so verified keys are cached (<see cref="VerifiedKeyCache"/>).
/// </summary>
internal static class ApiKeySecret
{
    private const string Prefix = "esk_";
    private const int KeyIdLength = 16;
    private const int SecretBytes = 32;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>A new key and its id.</summary>
    public static (string KeyId, string Key) Generate()
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyIdLength / 2));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (keyId, $"{Prefix}{keyId}_{secret}");
    }

    /// <summary>The key id of a presented key, or false when it is not shaped like a key.</summary>
    public static bool TryReadKeyId(string key, out string keyId)
    {
        keyId = "";
        if (key.Length <= Prefix.Length + KeyIdLength + 1 || !key.StartsWith(Prefix, StringComparison.Ordinal)
            || key[Prefix.Length + KeyIdLength] != '_')
        {
            return false;
        }
        keyId = key.Substring(Prefix.Length, KeyIdLength);
        return true;
    }

    /// <summary>Whether <paramref name="presented"/> looks like an API key rather than a JWT.</summary>
    public static bool LooksLikeKey(string presented) => presented.StartsWith(Prefix, StringComparison.Ordinal);

    public static (byte[] Salt, byte[] Hash) Hash(string key, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return (salt, Derive(key, salt, iterations));
    }

    /// <summary>Whether <paramref name="key"/> hashes to <paramref name="hash"/>, compared in constant time.</summary>
    public static bool Verify(string key, byte[] salt, int iterations, byte[] hash) =>
        CryptographicOperations.FixedTimeEquals(Derive(key, salt, iterations), hash);

    /// <summary>A cheap fingerprint of a presented key, to remember it was verified without keeping it.</summary>
    public static string Fingerprint(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static byte[] Derive(string key, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(key), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
}
