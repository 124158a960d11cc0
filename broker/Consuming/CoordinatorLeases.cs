using EventStream.Broker.Citus;
using EventStream.Broker.Cluster;
using EventStream.Broker.Storage;
using EventStream.Protocol;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventStream.Broker.Consuming;

/// <summary>
/// Which broker runs each consumer group, when several share a database (sql/006): a lease per
/// group, taken before a broker starts the group's coordinator and renewed while it runs. Members
/// that reach another broker are sent to the holder.
/// </summary>
internal sealed class CoordinatorLeases(
    DatabaseEndpoint database,
    ClusterTopology topology,
    BrokerIdentity identity,
    IOptions<ClusterOptions> options,
    TimeProvider timeProvider,
    ILogger<CoordinatorLeases> logger)
{
    internal ILogger Logger => logger;

    internal TimeProvider TimeProvider => timeProvider;

    /// <summary>How long a lease lasts unless renewed.</summary>
    public TimeSpan Duration => options.Value.CoordinatorLeaseDuration;

    /// <summary>This broker.</summary>
    public BrokerIdentity Identity => identity;

    /// <summary>
    /// Takes the group's lease for this broker (or renews it, if this broker holds it) and keeps it
    /// renewed until disposed or lost. Any stream of the group's slot still open is a previous
    /// holder's and is ended. Call it only while this broker does not run the group.
    /// </summary>
    /// <exception cref="RpcException">UNAVAILABLE with the holder's address when another broker holds the lease.</exception>
    public async Task<CoordinatorLease> AcquireAsync(string group, CancellationToken cancellationToken)
    {
        var sent = timeProvider.GetTimestamp();
        var state = await TryAcquireAsync(group, cancellationToken);
        if (!state.Acquired)
        {
            throw Refuse(group, state.Address);
        }
        CoordinatorLog.Acquired(logger, group, identity.Id, identity.Address, state.Epoch);
        var lease = new CoordinatorLease(this, group, state.Epoch, sent);
        try
        {
            await EndStaleStreamsAsync(group, cancellationToken);
        }
        catch
        {
            await lease.DisposeAsync();
            throw;
        }
        lease.Start();
        return lease;
    }

    /// <summary>
    /// For calls that need the group's coordinator but do not start one (commits and leaves without a
    /// running coordinator, admin changes): fails when another broker runs the group.
    /// </summary>
    /// <exception cref="RpcException">UNAVAILABLE with the holder's address when another broker holds the lease.</exception>
    public async Task ThrowIfHeldElsewhereAsync(string group, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("SELECT holder, holder_address FROM eventstream.group_coordinator($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken) && reader.GetString(0) is var holder && holder != identity.Id)
        {
            throw Refuse(group, reader.GetString(1));
        }
    }

    /// <summary>One call of eventstream.acquire_coordinator: acquires, renews, or reports the holder.</summary>
    internal async Task<LeaseState> TryAcquireAsync(string group, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand(
            "SELECT acquired, holder, holder_address, lease_epoch FROM eventstream.acquire_coordinator($1, $2, $3, $4)");
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        command.Parameters.Add(new NpgsqlParameter { Value = identity.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = identity.Address });
        command.Parameters.Add(new NpgsqlParameter { Value = Duration });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            // Only when the group vanished between the insert's conflict and the read.
            throw new RpcException(new Status(StatusCode.NotFound, $"Consumer group '{group}' does not exist."));
        }
        return new LeaseState(reader.GetBoolean(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
    }

    internal async Task<bool> ReleaseAsync(string group, long epoch, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("SELECT eventstream.release_coordinator($1, $2, $3)");
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        command.Parameters.Add(new NpgsqlParameter { Value = identity.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = epoch });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The group's lease is held by another broker id: a redirect to its address, or, when that is
    /// this broker's own address (an earlier process of it, with another id, whose lease has not
    /// expired), UNAVAILABLE without a redirect, so no client is sent back where it came from.
    /// </summary>
    private RpcException Refuse(string group, string holderAddress)
    {
        if (string.Equals(holderAddress, identity.Address, StringComparison.OrdinalIgnoreCase))
        {
            CoordinatorLog.HeldByEarlierProcess(logger, group, holderAddress);
            return new RpcException(new Status(StatusCode.Unavailable,
                $"Consumer group '{group}' is still leased to an earlier process of this broker for up to {Duration.TotalSeconds:0.#} s; " +
                $"retry shortly (a stable {ClusterOptions.SectionName}:BrokerId avoids the wait)."));
        }
        CoordinatorLog.Redirecting(logger, group, holderAddress);
        return Redirect(group, holderAddress);
    }

    /// <summary>
    /// UNAVAILABLE, naming the broker that runs the group, with its address in the
    /// <c>eventstream-coordinator</c> trailer for clients to follow.
    /// </summary>
    public static RpcException Redirect(string group, string address)
    {
        var trailers = new Metadata();
        // Header values are printable ASCII; otherwise the message still names the address.
        if (address.All(c => c is >= ' ' and <= '~'))
        {
            trailers.Add(CoordinatorRedirect.MetadataKey, address);
        }
        return new RpcException(
            new Status(StatusCode.Unavailable, $"Consumer group '{group}' is run by the broker at {address}; connect to that broker."),
            trailers);
    }

    /// <summary>
    /// A holder that died or paused may leave its replication connection open for a while (until
    /// PostgreSQL notices); the new holder ends it (waiting up to 5 s) so streaming can start at once. Needs superuser or
    /// pg_signal_backend; without them the stream starts once PostgreSQL drops the connection.
    /// </summary>
    private async Task EndStaleStreamsAsync(string group, CancellationToken cancellationToken)
    {
        var slot = SlotNames.ForGroup(group);
        // On Citus the group has a slot on every node holding shards.
        foreach (var node in (await topology.GetAsync(refresh: false, cancellationToken)).Nodes)
        {
            try
            {
                await using var command = topology.DataSourceOf(node).CreateCommand(
                    "SELECT active_pid, pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL");
                command.Parameters.Add(new NpgsqlParameter { Value = slot });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    CoordinatorLog.EndedStaleStream(logger, group, slot, reader.GetInt32(0));
                }
            }
            catch (PostgresException e)
            {
                CoordinatorLog.StaleStreamNotEnded(logger, group, slot, e.MessageText);
            }
        }
    }
}

/// <summary>The holder of a group's coordinator lease after an acquire call, and whether it is the caller.</summary>
internal readonly record struct LeaseState(bool Acquired, string BrokerId, string Address, long Epoch);
