namespace EventStream.Client.Producer;

/// <summary>
/// Space for a call's encoded events: slices of shared arrays, so an event waiting for its batch
/// holds no arrays of its own for the collector to move. Not thread-safe.
/// </summary>
internal sealed class EncodedChunks
{
    // Below the 85,000 bytes from which arrays go to the large object heap.
    private const int ChunkBytes = 64 * 1024;

    private byte[] _chunk = [];
    private int _used;

    /// <summary>A slice of <paramref name="size"/> bytes; new arrays are sized for the events left, up to a chunk.</summary>
    public Memory<byte> Take(int size, int eventsLeft)
    {
        if (_chunk.Length - _used < size)
        {
            _chunk = new byte[Math.Max(size, (int)Math.Min(ChunkBytes, (long)size * eventsLeft))];
            _used = 0;
        }
        var slice = _chunk.AsMemory(_used, size);
        _used += size;
        return slice;
    }
}
