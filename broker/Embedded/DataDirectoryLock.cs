namespace EventStream.Broker.Embedded;

/// <summary>
/// An exclusive lock on the data directory for the broker's lifetime. FileShare.None takes an
/// flock on Unix, which the kernel drops when the process dies, even by kill -9.
/// </summary>
internal static class DataDirectoryLock
{
    public static FileStream Acquire(DataDirectoryLayout layout)
    {
        try
        {
            // .NET opens files close-on-exec, so the postmaster never inherits the lock.
            return new FileStream(layout.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new EmbeddedPostgresException(
                $"The data directory {layout.Root} is in use by another EventStream broker (it holds {layout.LockFile}). "
                + $"Stop that broker, or give this one its own directory with {EmbeddedPostgresOptions.SectionName}:DataDirectory.", e);
        }
    }
}
