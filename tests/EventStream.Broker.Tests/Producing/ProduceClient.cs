using Grpc.Net.Client;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Npgsql;

namespace EventStream.Broker.Tests.Producing;

/// <summary>Small helpers over the raw gRPC contract, for tests of the broker itself.</summary>
internal static class ProduceClient
{
    public static string UniqueTopic(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";

    public static async Task<string> CreateTopicAsync(GrpcChannel channel, string? name = null, TimeSpan? retention = null)
    {
        name ??= UniqueTopic();
        var request = new CreateTopicRequest { Name = name };
        if (retention is { } r)
        {
            request.Retention = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(r);
        }
        await new Admin.AdminClient(channel).CreateTopicAsync(request).ResponseAsync;
        return name;
    }

    public static EventData Event(string? key, string payload) =>
        key is null ? new EventData { Data = ByteString.CopyFromUtf8(payload) } : new EventData { KeyText = key, Data = ByteString.CopyFromUtf8(payload) };

    public static ProduceRequest Batch(string topic, IEnumerable<EventData> events, string producerId = "", long firstSequence = 0)
    {
        var request = new ProduceRequest { Topic = topic, ProducerId = producerId, FirstSequence = firstSequence };
        request.Events.Add(events);
        return request;
    }

    /// <summary>Each event's delivery, spelled out from the batch's compact answer.</summary>
    public static List<(int Shard, long EventId, DateTime IngestTime, bool Duplicate)> Deliveries(this ProduceResponse response) =>
        response.Shards.Select((shard, i) => (shard, response.FirstEventId + i, response.IngestTime.ToDateTime(), response.Duplicate)).ToList();

    /// <summary>The stored events of a topic: (event id, shard, payload), by event id.</summary>
    public static async Task<List<(long EventId, int Shard, string Payload)>> StoredAsync(NpgsqlDataSource database, string topic)
    {
        await using var command = database.CreateCommand(
            "SELECT e.event_id, e.shard, convert_from(e.payload, 'UTF8') FROM eventstream.events e " +
            "JOIN eventstream.topics t USING (topic_id) WHERE t.name = $1 ORDER BY e.event_id");
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2)));
        }
        return rows;
    }
}
