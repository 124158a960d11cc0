using System.Globalization;
using System.Text.RegularExpressions;

namespace EventStream.Broker.Embedded;

/// <summary>An installed PostgreSQL server: where its programs are and whether pg_cron and Citus are there.</summary>
internal sealed partial record PostgresBinaries(string BinDirectory, int MajorVersion, bool HasPgCron, bool HasCitus)
{
    public const int MinimumMajorVersion = 15;

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Full path of a program in <see cref="BinDirectory"/>.</summary>
    public string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>
    /// Uses <paramref name="binDirectory"/> when given; otherwise the highest Debian
    /// <c>/usr/lib/postgresql/N/bin</c>, <c>pg_config --bindir</c>, initdb on PATH, then
    /// other usual places. Throws with install advice when nothing fits.
    /// </summary>
    /// <param name="binDirectory">The configured directory, if any.</param>
    /// <param name="clusterMajorVersion">
    /// Major version of an existing cluster: a server only opens clusters of its own major
    /// version, so a newer installation beside it must not be picked.
    /// </param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    public static async Task<PostgresBinaries> LocateAsync(string? binDirectory, int? clusterMajorVersion, CancellationToken cancellationToken)
    {
        var looked = new List<string>();
        var candidates = string.IsNullOrWhiteSpace(binDirectory)
            ? await CandidatesAsync(cancellationToken)
            : [Path.GetFullPath(binDirectory)];
        foreach (var directory in candidates.Distinct())
        {
            if (!new[] { "initdb", "pg_ctl", "postgres" }.All(t => Executables.IsExecutable(Path.Combine(directory, t))))
            {
                looked.Add(directory);
                continue;
            }

            var major = await ReadMajorVersionAsync(directory, cancellationToken);
            if (major < MinimumMajorVersion || (clusterMajorVersion is { } required && major != required))
            {
                looked.Add($"{directory} (PostgreSQL {major})");
                continue;
            }

            var libraries = await LibraryDirectoriesAsync(directory, cancellationToken);
            return new PostgresBinaries(directory, major, HasLibrary(libraries, "pg_cron"), HasLibrary(libraries, "citus"));
        }

        if (clusterMajorVersion is { } version)
        {
            throw new EmbeddedPostgresException(
                $"The data directory's cluster was created by PostgreSQL {version}, whose server programs were not found"
                + (looked.Count > 0 ? $" (looked in {string.Join(", ", looked)})" : "") + ". "
                + $"Install them (Debian or Ubuntu: sudo apt-get install postgresql-{version}), "
                + $"or set {EmbeddedPostgresOptions.SectionName}:BinDirectory to their directory.");
        }

        throw NotFound(looked);
    }

    private static EmbeddedPostgresException NotFound(List<string> looked) => new(
        $"No PostgreSQL {MinimumMajorVersion} or newer server programs (initdb, pg_ctl, postgres) were found"
        + (looked.Count > 0 ? $" (looked in {string.Join(", ", looked)})" : "") + ". "
        + $"Install them, e.g. on Debian or Ubuntu: sudo apt-get install postgresql-{MinimumMajorVersion} postgresql-{MinimumMajorVersion}-cron "
        + $"(Fedora/RHEL: postgresql{MinimumMajorVersion}-server; macOS: brew install postgresql@{MinimumMajorVersion}), "
        + $"or set {EmbeddedPostgresOptions.SectionName}:BinDirectory to their directory, "
        + "or set the connection string ConnectionStrings:EventStream (environment variable ConnectionStrings__EventStream) "
        + "to use an existing PostgreSQL server instead.");

    private static async Task<List<string>> CandidatesAsync(CancellationToken cancellationToken)
    {
        var candidates = new List<string>();
        candidates.AddRange(Versioned("/usr/lib/postgresql", n => Path.Combine("/usr/lib/postgresql", n, "bin")));

        if (Executables.Find("pg_config") is { } pgConfig)
        {
            var bindir = await ProbeAsync([pgConfig, "--bindir"], cancellationToken);
            if (bindir is { Length: > 0 } && Path.IsPathRooted(bindir))
            {
                candidates.Add(bindir);
            }
        }

        // Resolve links: postgres looks for its siblings next to the real file.
        if (Executables.Find("initdb") is { } initdb)
        {
            var real = File.ResolveLinkTarget(initdb, returnFinalTarget: true)?.FullName ?? initdb;
            candidates.Add(Path.GetDirectoryName(real)!);
        }

        candidates.AddRange(Versioned("/usr", n => $"/usr/pgsql-{n}/bin", "pgsql-"));
        candidates.AddRange(Versioned("/opt/homebrew/opt", n => $"/opt/homebrew/opt/postgresql@{n}/bin", "postgresql@"));
        candidates.AddRange(Versioned("/usr/local/opt", n => $"/usr/local/opt/postgresql@{n}/bin", "postgresql@"));
        candidates.Add("/usr/local/pgsql/bin");
        return candidates;
    }

    /// <summary>Directories under <paramref name="parent"/> named prefix + major version, highest first.</summary>
    private static IEnumerable<string> Versioned(string parent, Func<string, string> bin, string prefix = "")
    {
        if (!Directory.Exists(parent))
        {
            return [];
        }

        return Directory.EnumerateDirectories(parent, prefix + "*")
            .Select(d => Path.GetFileName(d)[prefix.Length..])
            .Where(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderByDescending(n => int.Parse(n, CultureInfo.InvariantCulture))
            .Select(bin);
    }

    private static async Task<int> ReadMajorVersionAsync(string directory, CancellationToken cancellationToken)
    {
        var printed = await ProbeAsync([Path.Combine(directory, "pg_ctl"), "--version"], cancellationToken) ?? "";
        var match = VersionPattern().Match(printed);
        return match.Success ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Where the server's extension libraries may be: preloadable extensions sit there.</summary>
    private static async Task<List<string>> LibraryDirectoriesAsync(string directory, CancellationToken cancellationToken)
    {
        var libDirectories = new List<string>();
        var pgConfig = Path.Combine(directory, "pg_config");
        if (Executables.IsExecutable(pgConfig) && await ProbeAsync([pgConfig, "--pkglibdir"], cancellationToken) is { Length: > 0 } pkglibdir)
        {
            libDirectories.Add(pkglibdir);
        }

        libDirectories.Add(Path.GetFullPath(Path.Combine(directory, "..", "lib")));
        libDirectories.Add(Path.GetFullPath(Path.Combine(directory, "..", "lib", "postgresql")));
        return libDirectories;
    }

    private static bool HasLibrary(List<string> libDirectories, string name) =>
        libDirectories.Any(d => File.Exists(Path.Combine(d, name + ".so")) || File.Exists(Path.Combine(d, name + ".dylib")));

    /// <summary>First line a helper program prints, or null when it fails.</summary>
    private static async Task<string?> ProbeAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        try
        {
            var result = await ProcessRunner.RunAsync(command, "/", ProbeTimeout, cancellationToken);
            return result.Succeeded ? result.Output.Trim() : null;
        }
        catch (EmbeddedPostgresException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();
}
