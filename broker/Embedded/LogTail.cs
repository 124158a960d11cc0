using System.Text;

namespace EventStream.Broker.Embedded;

/// <summary>Reads what the server wrote to postgres.log, for error messages.</summary>
internal static class LogTail
{
    private const int MaxLines = 30;

    public static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>The last lines written at or after <paramref name="offset"/>.</summary>
    public static string Read(string path, long offset = 0)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', lines.TakeLast(MaxLines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Keeps one old log beside the current one, so the file does not grow forever.</summary>
    public static void Rotate(string path, long maxBytes = 16 * 1024 * 1024)
    {
        if (Length(path) > maxBytes)
        {
            File.Move(path, path + ".1", overwrite: true);
        }
    }
}
