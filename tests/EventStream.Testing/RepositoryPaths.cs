namespace EventStream.Testing;

/// <summary>Finds files of the repository from a test's output folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder holding EventStream.sln.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path below the repository root.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>tests/interop, where the independent gRPC peers live.</summary>
    public static string Interop => Combine("tests", "interop");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventStream.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No EventStream.sln above {AppContext.BaseDirectory}.");
    }
}
