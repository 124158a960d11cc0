namespace EventStream.Broker.Embedded;

/// <summary>
/// The OS account PostgreSQL runs as when the broker runs as root: it must exist, own the
/// data directory and be able to reach it.
/// </summary>
internal sealed class ServerAccount
{
    private readonly TimeSpan _timeout;

    private ServerAccount(string name, IReadOnlyList<string> switchUserPrefix, TimeSpan timeout)
    {
        Name = name;
        SwitchUserPrefix = switchUserPrefix;
        _timeout = timeout;
    }

    public string Name { get; }

    /// <summary>Command prefix that runs a program as this account.</summary>
    public IReadOnlyList<string> SwitchUserPrefix { get; }

    /// <summary>Checks the account exists and can reach <paramref name="layout"/>.</summary>
    public static async Task<ServerAccount> PrepareAsync(
        string name, DataDirectoryLayout layout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var prefix = UnixUser.SwitchUserPrefix(name) ?? throw new EmbeddedPostgresException(
            "The broker runs as root, where initdb and postgres refuse to run, and neither runuser nor setpriv "
            + "was found to run them as another account. Install util-linux, or run the broker as a regular user.");

        var id = await ProcessRunner.RunAsync(["id", "-u", name], "/", timeout, cancellationToken);
        if (!id.Succeeded)
        {
            throw new EmbeddedPostgresException(
                $"The broker runs as root, where initdb and postgres refuse to run, so PostgreSQL runs as the '{name}' account, "
                + $"which does not exist. Install the PostgreSQL server package (it creates the account), set "
                + $"{EmbeddedPostgresOptions.SectionName}:OsUser to another account, or run the broker as a regular user.");
        }

        var account = new ServerAccount(name, prefix, timeout);
        await account.CheckReachableAsync(layout.Root, cancellationToken);
        return account;
    }

    /// <summary>Gives the account ownership of <paramref name="paths"/> (those that exist).</summary>
    public async Task GiveAsync(IEnumerable<string> paths, bool recursive, CancellationToken cancellationToken)
    {
        var existing = paths.Where(p => File.Exists(p) || Directory.Exists(p)).ToList();
        if (existing.Count == 0)
        {
            return;
        }

        IReadOnlyList<string> flags = recursive ? ["-R"] : [];
        var result = await ProcessRunner.RunAsync(
            ["chown", .. flags, $"{Name}:{Name}", "--", .. existing], "/", _timeout, cancellationToken);
        if (!result.Succeeded)
        {
            throw new EmbeddedPostgresException($"Could not give {string.Join(", ", existing)} to the '{Name}' account: {result.Printed}");
        }
    }

    /// <summary>
    /// Every directory above the data directory must be searchable by the account; the data
    /// directory itself is given to it. /root (mode 0700) is the usual trap.
    /// </summary>
    private async Task CheckReachableAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(dataDirectory);
        if (parent is null || await CanSearchAsync(parent, cancellationToken))
        {
            return;
        }

        // Find the first directory from the top that blocks the way, to name it.
        var blocking = parent;
        var ancestors = new List<string>();
        for (var d = parent; d is not null; d = Path.GetDirectoryName(d))
        {
            ancestors.Insert(0, d);
        }

        foreach (var ancestor in ancestors)
        {
            if (!await CanSearchAsync(ancestor, cancellationToken))
            {
                blocking = ancestor;
                break;
            }
        }

        throw new EmbeddedPostgresException(
            $"The broker runs as root, so PostgreSQL runs as the '{Name}' account, which cannot reach the data directory "
            + $"{dataDirectory}: it may not enter {blocking}. Set {EmbeddedPostgresOptions.SectionName}:DataDirectory "
            + "(environment variable EventStream__Embedded__DataDirectory) to a directory it can reach, e.g. /var/lib/eventstream.");
    }

    private async Task<bool> CanSearchAsync(string directory, CancellationToken cancellationToken)
    {
        var test = Executables.Find("test", "/usr/bin", "/bin") ?? "test";
        var result = await ProcessRunner.RunAsync([.. SwitchUserPrefix, test, "-x", directory], "/", _timeout, cancellationToken);
        return result.Succeeded;
    }
}
