namespace EventStream.Broker.Tests;

/// <summary>A fresh directory under /tmp, deleted afterwards.</summary>
/// <remarks>
/// /tmp rather than $TMPDIR: as root, PostgreSQL runs as the postgres account, which must be
/// able to reach the directory. It is created 0700 like mktemp -d; the launcher takes it over.
/// </remarks>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        Path = System.IO.Path.Combine("/tmp", "eventstream-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Leave it for the OS to clean up.
        }
    }
}
