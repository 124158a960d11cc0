using System.Buffers.Binary;
using System.Text;

namespace EventStream.Protocol.Sharding;

/// <summary>
/// Maps an event key to its shard, identically in the SDK and the broker: the 32-bit murmur2
/// hash (seed 0x9747b28c) of the key's bytes, sign bit cleared, modulo the shard count. This is
/// the hash Kafka's default partitioner uses, so a key lands on the shard whose number equals the
/// partition Kafka would pick for the same key and count. Text keys hash as their UTF-8 bytes.
/// </summary>
public static class ShardHash
{
    private const uint Seed = 0x9747b28c;
    private const uint M = 0x5bd1e995;
    private const int R = 24;

    /// <summary>The shard of a key.</summary>
    public static int ShardOf(ReadOnlySpan<byte> key, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        return (int)((uint)Murmur2(key) & 0x7fffffff) % shardCount;
    }

    /// <summary>The shard of a text key (its UTF-8 bytes).</summary>
    public static int ShardOf(string key, int shardCount) => ShardOf(Encoding.UTF8.GetBytes(key), shardCount);

    /// <summary>The murmur2 hash of the bytes, as Kafka computes it.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        var h = Seed ^ (uint)data.Length;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        var tail = data[(blocks * 4)..];
        switch (tail.Length)
        {
            case 3:
                h ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                h ^= tail[0];
                h *= M;
                break;
        }
        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return (int)h;
    }
}
