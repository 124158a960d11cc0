-- Consumer group lag (see 013_observability.sql) in a form Citus plans as well: the positions,
-- a local table, are read apart from the distributed events table, and the events are joined
-- only with arrays on the inner side (Citus joins a table function with distributed tables in an
-- inner join, not on the outer side of an outer join). Same answers on a single server.
CREATE OR REPLACE FUNCTION eventstream.group_lag(name text)
RETURNS TABLE (shard integer, events bigint, bytes bigint, oldest_time timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    topic_ids   integer[];
    started     timestamptz;
    shard_ids   integer[];
    after_times timestamptz[];
    after_ids   bigint[];
    lower_bound timestamptz;
    position_shards integer[];
    position_ids    bigint[];
    position_times  timestamptz[];
BEGIN
    SELECT coalesce(g.backfill_from, g.backfill_until, g.created_at),
           array(SELECT t.topic_id FROM eventstream.topics t
                 WHERE EXISTS (SELECT FROM unnest(g.topics) p
                               WHERE t.name = p OR (right(p, 1) = '*' AND starts_with(t.name, left(p, -1)))))
    INTO started, topic_ids
    FROM eventstream.consumer_groups g WHERE g.group_name = name;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- Each shard's threshold: after its committed event, or from the group's start. Positions are
    -- read apart from the events: Citus does not join its distributed events with a local table.
    SELECT array_agg(p.shard_id), array_agg(p.event_id), array_agg(p.committed_at)
    INTO position_shards, position_ids, position_times
    FROM eventstream.positions p WHERE p.consumer_group = name;
    WITH committed AS MATERIALIZED (
        SELECT e.shard AS shard_id, min(e.ingest_time) AS ingest_time
        FROM eventstream.events e
        JOIN unnest(position_shards, position_ids, position_times) AS p(shard_id, event_id, committed_at)
          ON e.shard = p.shard_id AND e.event_id = p.event_id
        WHERE e.topic_id = ANY (topic_ids) AND e.ingest_time <= p.committed_at
        GROUP BY e.shard)
    SELECT array_agg(s.id ORDER BY s.id),
           array_agg(CASE WHEN p.event_id IS NULL THEN started ELSE coalesce(c.ingest_time, '-infinity') END ORDER BY s.id),
           array_agg(CASE WHEN p.event_id IS NULL OR c.ingest_time IS NULL THEN -9223372036854775808 ELSE p.event_id END ORDER BY s.id)
    INTO shard_ids, after_times, after_ids
    FROM generate_series(0, (SELECT shard_count - 1 FROM eventstream.cluster)) AS s(id)
    LEFT JOIN unnest(position_shards, position_ids) AS p(shard_id, event_id) ON p.shard_id = s.id
    LEFT JOIN committed c ON c.shard_id = s.id;
    SELECT min(t) INTO lower_bound FROM unnest(after_times) t;

    RETURN QUERY
    WITH lag AS MATERIALIZED (
        SELECT e.shard AS shard_id,
               count(*) AS events,
               sum(octet_length(e.payload) + coalesce(octet_length(e.key), 0))::bigint AS bytes,
               min(e.ingest_time) AS oldest_time
        FROM eventstream.events e
        JOIN unnest(shard_ids, after_times, after_ids) AS a(shard_id, after_time, after_id) ON e.shard = a.shard_id
        WHERE e.topic_id = ANY (topic_ids)
          AND e.ingest_time >= lower_bound
          AND (e.ingest_time, e.event_id) > (a.after_time, a.after_id)
        GROUP BY e.shard)
    SELECT s.id, coalesce(l.events, 0), coalesce(l.bytes, 0), l.oldest_time
    FROM unnest(shard_ids) AS s(id)
    LEFT JOIN lag l ON l.shard_id = s.id
    ORDER BY s.id;
END;
$$;
