using Npgsql;

namespace EventStream.Broker.Producing;

/// <summary>
/// Hands out contiguous event-id ranges from blocks of <see cref="BlockSize"/> taken from the
/// <c>eventstream.event_id_blocks</c> sequence, so a batch is identified by its first id.
/// </summary>
internal sealed class EventIdAllocator
{
    /// <summary>Must match the sequence's INCREMENT BY in sql/002.</summary>
    public const int BlockSize = 1_000_000;

    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _next;
    private long _end;

    /// <summary>The first of <paramref name="count"/> consecutive unused ids.</summary>
    public async Task<long> ReserveAsync(int count, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, BlockSize);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_end - _next < count)
            {
                // The unused tail of the old block is skipped: ids are unique, not dense.
                await using var command = new NpgsqlCommand("SELECT nextval('eventstream.event_id_blocks')", connection);
                _next = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
                _end = _next + BlockSize;
            }
            var first = _next;
            _next += count;
            return first;
        }
        finally
        {
            _lock.Release();
        }
    }
}
