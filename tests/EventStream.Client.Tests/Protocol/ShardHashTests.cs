using System.Text;
using EventStream.Protocol.Sharding;

namespace EventStream.Client.Tests.Protocol;

/// <summary>The key → shard hash the broker applies, checked against Kafka's own murmur2 test vectors.</summary>
public class ShardHashTests
{
    // From Kafka's UtilsTest.testMurmur2.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_Kafka(string key, int expected) =>
        Assert.Equal(expected, ShardHash.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Murmur2_of_nothing_is_the_mixed_seed() =>
        Assert.Equal(275646681, ShardHash.Murmur2([]));

    [Theory]
    [InlineData("21", 32)]
    [InlineData("foobar", 32)]
    [InlineData("abc", 7)]
    public void Shard_is_the_positive_hash_modulo_the_shard_count_as_Kafka_partitions(string key, int shards)
    {
        var hash = ShardHash.Murmur2(Encoding.UTF8.GetBytes(key));
        Assert.Equal((hash & 0x7fffffff) % shards, ShardHash.ShardOf(key, shards));
        Assert.Equal(ShardHash.ShardOf(Encoding.UTF8.GetBytes(key), shards), ShardHash.ShardOf(key, shards));
    }

    [Fact]
    public void Shard_count_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardHash.ShardOf("k", 0));
}
