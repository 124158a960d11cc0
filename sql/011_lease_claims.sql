-- Balancing moves to the broker (LeaseBalancer): a round reads every lease of the group, decides
-- in C#, and applies its claims here, each by compare-and-set on the lease's epoch.

-- Renews a member (and its leases) and returns every lease of its group, whether its owner
-- expired, and how many members are live.
CREATE OR REPLACE FUNCTION eventstream.lease_states(name text, member text, timeout interval)
RETURNS TABLE (shard integer, owner text, new_owner text, epoch bigint, owner_expired boolean, live_members integer)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO eventstream.group_members (group_name, member_id, session_timeout)
    VALUES (name, member, timeout)
    ON CONFLICT (group_name, member_id)
    DO UPDATE SET last_heartbeat = now(), session_timeout = excluded.session_timeout;
    UPDATE eventstream.consumer_groups SET last_active_at = now() WHERE group_name = name;
    -- Locked in shard order, as commit_positions (sql/009) locks them, so the two never deadlock.
    UPDATE eventstream.leases l SET last_heartbeat = now()
    FROM (SELECT o.shard_id FROM eventstream.leases o
          WHERE o.consumer_group = name AND o.owner = member
          ORDER BY o.shard_id FOR NO KEY UPDATE) mine
    WHERE l.consumer_group = name AND l.shard_id = mine.shard_id;
    RETURN QUERY
    SELECT l.shard_id, l.owner, l.new_owner, l.epoch, l.owner IS NOT NULL AND eventstream.lease_expired(l),
           (SELECT count(*)::integer FROM eventstream.group_members m
            WHERE m.group_name = name AND m.last_heartbeat >= now() - m.session_timeout)
    FROM eventstream.leases l WHERE l.consumer_group = name
    ORDER BY l.shard_id;
END;
$$;

-- Applies a round's claims for a member: takes each free shard still at the epoch it was seen
-- with, asks for each held shard still at its epoch and not yet asked for. A claim whose lease
-- changed meanwhile does nothing. Returns the member's leases; handing_over is true where another
-- member asked for the shard: finish, commit and release it.
CREATE OR REPLACE FUNCTION eventstream.apply_lease_claims(
    name text, member text, take_shards integer[], take_epochs bigint[], ask_shards integer[], ask_epochs bigint[])
RETURNS TABLE (shard integer, epoch bigint, handing_over boolean)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE eventstream.leases l
    SET owner = member, new_owner = NULL, epoch = l.epoch + 1, last_heartbeat = now()
    FROM unnest(take_shards, take_epochs) AS c(shard_id, seen_epoch)
    WHERE l.consumer_group = name AND l.shard_id = c.shard_id AND l.epoch = c.seen_epoch
      AND (l.owner IS NULL OR eventstream.lease_expired(l));
    UPDATE eventstream.leases l
    SET new_owner = member
    FROM unnest(ask_shards, ask_epochs) AS c(shard_id, seen_epoch)
    WHERE l.consumer_group = name AND l.shard_id = c.shard_id AND l.epoch = c.seen_epoch
      AND l.owner IS NOT NULL AND l.owner <> member AND l.new_owner IS NULL;
    RETURN QUERY
    SELECT l.shard_id, l.epoch, l.new_owner IS NOT NULL
    FROM eventstream.leases l WHERE l.consumer_group = name AND l.owner = member
    ORDER BY l.shard_id;
END;
$$;
