-- On Citus a shard's events come from the node holding it, and after a shard move from another
-- node whose LSNs do not compare with the old one's. A commit on a different node than the
-- stored position is newer by delivery order (members commit in the order they receive), so it
-- replaces the position; on the same node positions still only move forward.
CREATE OR REPLACE FUNCTION eventstream.commit_position(
    name text, member text, shard integer, lease_epoch bigint, at_node integer, lsn pg_lsn, at_ordinal bigint, at_event_id bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM eventstream.leases
    WHERE consumer_group = name AND shard_id = shard AND owner = member AND epoch = lease_epoch
    FOR SHARE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO eventstream.positions AS p (consumer_group, shard_id, node, commit_lsn, ordinal, event_id)
    VALUES (name, shard, at_node, lsn, at_ordinal, at_event_id)
    ON CONFLICT (consumer_group, shard_id) DO UPDATE
    SET node = excluded.node, commit_lsn = excluded.commit_lsn, ordinal = excluded.ordinal,
        event_id = excluded.event_id, committed_at = now()
    WHERE p.node <> excluded.node
       OR (p.commit_lsn, p.ordinal, p.event_id) < (excluded.commit_lsn, excluded.ordinal, excluded.event_id);
    UPDATE eventstream.leases SET last_heartbeat = now()
    WHERE consumer_group = name AND shard_id = shard;
    RETURN true;
END;
$$;
