using System.Globalization;

namespace EventStream.Broker.Embedded;

/// <summary>The files the broker keeps in its data directory.</summary>
internal sealed class DataDirectoryLayout
{
    /// <summary>Line appended once to postgresql.conf so our settings file overrides the defaults.</summary>
    public const string IncludeLine = "include_if_exists 'eventstream.conf'";

    private DataDirectoryLayout(string root) => Root = root;

    public string Root { get; }

    /// <summary>The PostgreSQL cluster (initdb's data directory).</summary>
    public string Cluster => Path.Combine(Root, "pgdata");

    /// <summary>Unix socket directory, so no system directory such as /var/run/postgresql is needed.</summary>
    public string SocketDirectory => Path.Combine(Root, "run");

    public string LogFile => Path.Combine(Root, "postgres.log");

    public string PasswordFile => Path.Combine(Root, "password");

    public string PortFile => Path.Combine(Root, "port");

    public string LockFile => Path.Combine(Root, "eventstream.lock");

    /// <summary>The broker's id, kept across restarts (see <c>ClusterOptions.BrokerId</c>).</summary>
    public string BrokerIdFile => Path.Combine(Root, "broker-id");

    /// <summary>Where the broker using <paramref name="dataDirectory"/> keeps its id.</summary>
    public static string BrokerIdFileOf(string dataDirectory) => new DataDirectoryLayout(Resolve(dataDirectory)).BrokerIdFile;

    /// <summary>Settings the broker rewrites on every start; postgresql.conf includes it.</summary>
    public string SettingsFile => Path.Combine(Cluster, "eventstream.conf");

    public string ClusterConfig => Path.Combine(Cluster, "postgresql.conf");

    public bool ClusterExists => File.Exists(Path.Combine(Cluster, "PG_VERSION"));

    /// <summary>The full path of <paramref name="dataDirectory"/>; a leading ~ is the home directory.</summary>
    public static string Resolve(string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory))
        {
            throw new EmbeddedPostgresException($"{EmbeddedPostgresOptions.SectionName}:DataDirectory is empty.");
        }

        if (dataDirectory == "~" || dataDirectory.StartsWith("~/", StringComparison.Ordinal))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            dataDirectory = home + dataDirectory[1..];
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
    }

    /// <summary>Resolves <paramref name="dataDirectory"/> and creates it unless it holds someone else's files.</summary>
    public static DataDirectoryLayout Create(string dataDirectory)
    {
        var root = Resolve(dataDirectory);
        var layout = new DataDirectoryLayout(root);
        try
        {
            if (layout.IsForeign)
            {
                // The broker takes the directory over (as root, chown -R): never one it did not make.
                throw new EmbeddedPostgresException(
                    $"The data directory {root} already holds other files. Set {EmbeddedPostgresOptions.SectionName}:DataDirectory "
                    + "to an empty or new directory for the broker's own use.");
            }

            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EmbeddedPostgresException(
                $"Cannot use the data directory {root}: {e.Message} Set {EmbeddedPostgresOptions.SectionName}:DataDirectory to a writable directory.", e);
        }

        return layout;
    }

    private bool IsForeign =>
        Directory.Exists(Root)
        // lost+found: a freshly formatted volume mounted there is still empty.
        && Directory.EnumerateFileSystemEntries(Root).Any(e => Path.GetFileName(e) != "lost+found")
        && !File.Exists(LockFile)
        && !Directory.Exists(Cluster);

    /// <summary>Major version of the cluster under <paramref name="dataDirectory"/>, read before anything is created.</summary>
    public static int? ReadClusterMajorVersion(string dataDirectory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(Resolve(dataDirectory), "pgdata", "PG_VERSION")).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The port the previous run used, if recorded.</summary>
    public int? ReadLastPort()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PortFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void WriteLastPort(int port) => File.WriteAllText(PortFile, port.ToString(CultureInfo.InvariantCulture) + "\n");

    /// <summary>Makes postgresql.conf include <see cref="SettingsFile"/>; done once, checked every start.</summary>
    public void EnsureSettingsIncluded()
    {
        var config = File.ReadAllText(ClusterConfig);
        if (!config.Contains(IncludeLine, StringComparison.Ordinal))
        {
            File.AppendAllText(ClusterConfig, $"\n# EventStream broker settings, rewritten on every start.\n{IncludeLine}\n");
        }
    }

    /// <summary>True when pgdata holds something other than a cluster (e.g. an interrupted initdb).</summary>
    public bool ClusterDirectoryHasLeftovers =>
        Directory.Exists(Cluster) && !ClusterExists && Directory.EnumerateFileSystemEntries(Cluster).Any();
}
