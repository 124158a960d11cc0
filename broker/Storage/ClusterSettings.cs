using Npgsql;

namespace EventStream.Broker.Storage;

/// <summary>Settings fixed when the cluster was created, read once from <c>eventstream.cluster</c>.</summary>
internal sealed class ClusterSettings(DatabaseEndpoint database)
{
    private Task<int>? _shardCount;

    /// <summary>The number of shards every topic spans.</summary>
    public Task<int> GetShardCountAsync(CancellationToken cancellationToken) =>
        _shardCount is { IsCompletedSuccessfully: true } known ? known : _shardCount = LoadAsync(cancellationToken);

    private async Task<int> LoadAsync(CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("SELECT shard_count FROM eventstream.cluster");
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
