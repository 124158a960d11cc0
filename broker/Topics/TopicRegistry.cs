using System.Collections.Concurrent;
using EventStream.Broker.Storage;
using EventStream.Broker.Validation;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Topics;

/// <summary>Creates, finds, alters and deletes topics; caches lookups briefly for the produce path.</summary>
internal sealed class TopicRegistry(DatabaseEndpoint database, IOptions<TopicOptions> options, TimeProvider timeProvider)
{
    private const string Columns = "topic_id, name, retention, description, created_at";
    private readonly ConcurrentDictionary<string, (TopicInfo Topic, long CachedAt)> _cache = new(StringComparer.Ordinal);

    public TopicOptions Options => options.Value;

    /// <summary>The topic to produce to: cached, auto-created when enabled, NOT_FOUND otherwise.</summary>
    public async Task<TopicInfo> ResolveForProduceAsync(string name, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(name, out var cached) && timeProvider.GetElapsedTime(cached.CachedAt) < Options.CacheDuration)
        {
            return cached.Topic;
        }
        TopicNames.Validate(name);
        var topic = await FindAsync(name, cancellationToken);
        if (topic is null && Options.AutoCreate)
        {
            topic = await CreateIfMissingAsync(name, cancellationToken);
        }
        return topic ?? throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{name}' does not exist; create it with Admin/CreateTopic."));
    }

    public async Task<TopicInfo?> FindAsync(string name, CancellationToken cancellationToken)
    {
        TopicInfo? topic;
        await using (var command = database.DataSource.CreateCommand($"SELECT {Columns} FROM eventstream.topics WHERE name = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            topic = await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }
        Remember(name, topic);
        return topic;
    }

    /// <summary>Creates a topic; ALREADY_EXISTS when the name is taken.</summary>
    public async Task<TopicInfo> CreateAsync(string name, TimeSpan? retention, string description, CancellationToken cancellationToken)
    {
        TopicNames.Validate(name);
        if (retention is { } r && (r <= TimeSpan.Zero || r > Options.MaxRetention))
        {
            throw RequestRules.Invalid("retention", $"must be positive and at most {Options.MaxRetention.TotalDays:0.###} days (EventStream:Topics:MaxRetention); leave it unset for the default");
        }
        if (description.Length > TopicNames.MaxDescriptionLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The description has {description.Length} characters; at most {TopicNames.MaxDescriptionLength} are allowed."));
        }
        var topic = await InsertAsync(name, retention ?? Options.DefaultRetention, description, cancellationToken)
            ?? throw new RpcException(new Status(StatusCode.AlreadyExists, $"Topic '{name}' already exists."));
        Remember(name, topic);
        return topic;
    }

    public async Task<List<TopicInfo>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand(
            $"SELECT {Columns} FROM eventstream.topics WHERE starts_with(name, $1) ORDER BY name");
        command.Parameters.Add(new NpgsqlParameter { Value = prefix });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var topics = new List<TopicInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            topics.Add(Read(reader));
        }
        return topics;
    }

    /// <summary>Sets a topic's retention and/or description (null: unchanged); NOT_FOUND when it does not exist.</summary>
    public async Task<TopicInfo> AlterAsync(string name, TimeSpan? retention, string? description, CancellationToken cancellationToken)
    {
        TopicNames.Validate(name);
        await using var command = database.DataSource.CreateCommand(
            $"UPDATE eventstream.topics SET retention = coalesce($2, retention), description = coalesce($3, description) WHERE name = $1 RETURNING {Columns}");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)retention ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)description ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        TopicInfo? topic;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            topic = await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }
        Remember(name, topic);
        return topic ?? throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{name}' does not exist."));
    }

    /// <summary>Deletes a topic; its events become unreachable at once and are purged by maintenance.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        TopicNames.Validate(name);
        await using var command = database.DataSource.CreateCommand("DELETE FROM eventstream.topics WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        _cache.TryRemove(name, out _);
        if (deleted == 0)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Topic '{name}' does not exist."));
        }
    }

    /// <summary>Estimated event count and bytes of a topic, from table statistics.</summary>
    public async Task<(long Events, long Bytes)> EstimateSizeAsync(TopicInfo topic, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("SELECT events, bytes FROM eventstream.topic_size_estimate($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = topic.Id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Ingest times of the topic's oldest and newest retained events (eventstream.topic_time_range, sql/013).</summary>
    public async Task<(DateTime? Oldest, DateTime? Newest)> TimeRangeAsync(TopicInfo topic, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("SELECT oldest, newest FROM eventstream.topic_time_range($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = topic.Id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.IsDBNull(0) ? null : reader.GetDateTime(0), reader.IsDBNull(1) ? null : reader.GetDateTime(1));
    }

    private async Task<TopicInfo> CreateIfMissingAsync(string name, CancellationToken cancellationToken) =>
        await InsertAsync(name, Options.DefaultRetention, "", cancellationToken)
        ?? await FindAsync(name, cancellationToken)
        ?? throw new RpcException(new Status(StatusCode.Aborted, $"Topic '{name}' was deleted while being created; retry."));

    private async Task<TopicInfo?> InsertAsync(string name, TimeSpan retention, string description, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand(
            $"INSERT INTO eventstream.topics (name, retention, description) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING {Columns}");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = retention });
        command.Parameters.Add(new NpgsqlParameter { Value = description });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private void Remember(string name, TopicInfo? topic)
    {
        if (topic is null)
        {
            _cache.TryRemove(name, out _);
        }
        else
        {
            _cache[name] = (topic, timeProvider.GetTimestamp());
        }
    }

    private static TopicInfo Read(NpgsqlDataReader reader) =>
        new(reader.GetInt32(0), reader.GetString(1), reader.GetTimeSpan(2), reader.GetString(3), reader.GetDateTime(4));
}
