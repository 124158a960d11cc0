using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace EventStream.Broker.Embedded;

/// <summary>The generated superuser password, kept readable by its owner only.</summary>
[UnsupportedOSPlatform("windows")]
internal static class PasswordFile
{
    /// <summary>The cluster's password; a new cluster gets <paramref name="preferred"/> or a random one.</summary>
    public static string ReadOrCreate(DataDirectoryLayout layout, string? preferred = null)
    {
        if (File.Exists(layout.PasswordFile))
        {
            var existing = File.ReadAllText(layout.PasswordFile).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        if (layout.ClusterExists)
        {
            throw new EmbeddedPostgresException(
                $"The cluster in {layout.Cluster} exists but its password file {layout.PasswordFile} is missing or empty. "
                + "Restore the file, or delete the data directory to start over (its data is lost).");
        }

        var password = preferred ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var writer = new StreamWriter(layout.PasswordFile, options))
        {
            writer.WriteLine(password);
        }

        return password;
    }
}
