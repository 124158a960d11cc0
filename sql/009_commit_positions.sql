-- A member's commits on several shards in one call, so a commit request is one round trip
-- whatever the number of shards. Each commit counts as commit_position (sql/007) would count it:
-- accepted only from the member holding the shard's lease under that epoch (the member's lease
-- rows stay locked until the transaction ends, so no owner changes under the commit), and the
-- stored position replaced by one on another node, or on the same node only by a later one.
-- The lease rows are locked in shard order and for update at once (no later upgrade), so the
-- member's concurrent commits wait for each other instead of deadlocking.
-- One row per commit, in the order of the arrays: the commit's shard and whether it was accepted.
-- A shard named more than once counts its accepted commits in array order: the furthest of those
-- after its last change of node is written.
CREATE OR REPLACE FUNCTION eventstream.commit_positions(
    name text, member text, shards integer[], epochs bigint[], nodes integer[], lsns pg_lsn[], ordinals bigint[], event_ids bigint[])
RETURNS TABLE (shard integer, accepted boolean)
LANGUAGE plpgsql AS $$
DECLARE
    commits integer := coalesce(cardinality(shards), 0);
    taken bigint[];
BEGIN
    IF coalesce(cardinality(epochs), 0) <> commits OR coalesce(cardinality(nodes), 0) <> commits
       OR coalesce(cardinality(lsns), 0) <> commits OR coalesce(cardinality(ordinals), 0) <> commits
       OR coalesce(cardinality(event_ids), 0) <> commits THEN
        RAISE EXCEPTION 'commit_positions needs arrays of one length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM FROM eventstream.leases AS l
    WHERE l.consumer_group = name AND l.owner = member AND l.shard_id = ANY (shards)
    ORDER BY l.shard_id
    FOR NO KEY UPDATE;

    SELECT coalesce(array_agg(c.i), '{}') INTO taken
    FROM unnest(shards, epochs) WITH ORDINALITY AS c(s, e, i)
    JOIN eventstream.leases AS l
      ON l.consumer_group = name AND l.shard_id = c.s AND l.owner = member AND l.epoch = c.e;

    INSERT INTO eventstream.positions AS p (consumer_group, shard_id, node, commit_lsn, ordinal, event_id)
    SELECT DISTINCT ON (c.s) name, c.s, c.n, c.l, c.o, c.id
    FROM unnest(shards, nodes, lsns, ordinals, event_ids) WITH ORDINALITY AS c(s, n, l, o, id, i)
    WHERE c.i = ANY (taken)
      AND NOT EXISTS (
          SELECT FROM unnest(shards, nodes) WITH ORDINALITY AS later(s, n, i)
          WHERE later.s = c.s AND later.i > c.i AND later.n <> c.n AND later.i = ANY (taken))
    ORDER BY c.s, c.l DESC, c.o DESC, c.id DESC
    ON CONFLICT (consumer_group, shard_id) DO UPDATE
    SET node = excluded.node, commit_lsn = excluded.commit_lsn, ordinal = excluded.ordinal,
        event_id = excluded.event_id, committed_at = now()
    WHERE p.node <> excluded.node
       OR (p.commit_lsn, p.ordinal, p.event_id) < (excluded.commit_lsn, excluded.ordinal, excluded.event_id);

    UPDATE eventstream.leases AS l SET last_heartbeat = now()
    WHERE l.consumer_group = name
      AND l.shard_id IN (SELECT c.s FROM unnest(shards) WITH ORDINALITY AS c(s, i) WHERE c.i = ANY (taken));

    RETURN QUERY
    SELECT c.s, c.i = ANY (taken)
    FROM unnest(shards) WITH ORDINALITY AS c(s, i)
    ORDER BY c.i;
END;
$$;
