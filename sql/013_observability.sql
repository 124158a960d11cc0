-- Figures for observability: consumer group lag per shard and a topic's oldest and newest events.

-- A consumer group's lag per shard, read from the table so that every broker sharing the
-- database reports the same figures whether or not it runs the group: the events of the group's
-- topics stored after its committed position (events, payload and key bytes, the oldest one's
-- ingest time). Positions are commit LSNs, which rows do not carry; "after" is judged by the
-- committed event's (ingest_time, event_id), exact while each shard's events are committed in
-- the order of their ingest time (off by what brokers' clocks disagree otherwise). A shard
-- without a position counts from where the group started. Committed events that expired count
-- everything retained.
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

    -- Each shard's threshold: after its committed event, or from the group's start.
    SELECT array_agg(s.id ORDER BY s.id),
           array_agg(CASE WHEN p.event_id IS NULL THEN started ELSE coalesce(c.ingest_time, '-infinity') END ORDER BY s.id),
           array_agg(CASE WHEN p.event_id IS NULL OR c.ingest_time IS NULL THEN -9223372036854775808 ELSE p.event_id END ORDER BY s.id)
    INTO shard_ids, after_times, after_ids
    FROM generate_series(0, (SELECT shard_count - 1 FROM eventstream.cluster)) AS s(id)
    LEFT JOIN eventstream.positions p ON p.consumer_group = name AND p.shard_id = s.id
    LEFT JOIN LATERAL (
        SELECT e.ingest_time FROM eventstream.events e
        WHERE e.topic_id = ANY (topic_ids) AND e.event_id = p.event_id AND e.shard = s.id AND e.ingest_time <= p.committed_at
        LIMIT 1) c ON true;
    SELECT min(t) INTO lower_bound FROM unnest(after_times) t;

    RETURN QUERY
    SELECT a.shard_id,
           count(e.event_id),
           coalesce(sum(octet_length(e.payload) + coalesce(octet_length(e.key), 0)), 0)::bigint,
           min(e.ingest_time)
    FROM unnest(shard_ids, after_times, after_ids) AS a(shard_id, after_time, after_id)
    LEFT JOIN eventstream.events e
        ON e.shard = a.shard_id
       AND e.topic_id = ANY (topic_ids)
       AND e.ingest_time >= lower_bound
       AND (e.ingest_time, e.event_id) > (a.after_time, a.after_id)
    GROUP BY a.shard_id
    ORDER BY a.shard_id;
END;
$$;

-- Ingest times of a topic's oldest and newest retained events. Partitions are named by the time
-- they start (events_YYYYMMDDTHHMI), so walking them in name order from either end finds each
-- answer in the first partition holding the topic, through its (topic_id, event_id) index,
-- instead of reading every partition.
CREATE OR REPLACE FUNCTION eventstream.topic_time_range(topic integer)
RETURNS TABLE (oldest timestamptz, newest timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    part text;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'eventstream.events'::regclass ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT min(ingest_time) FROM eventstream.%I WHERE topic_id = $1', part) INTO oldest USING topic;
        EXIT WHEN oldest IS NOT NULL;
    END LOOP;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'eventstream.events'::regclass ORDER BY c.relname DESC
    LOOP
        EXECUTE format('SELECT max(ingest_time) FROM eventstream.%I WHERE topic_id = $1', part) INTO newest USING topic;
        EXIT WHEN newest IS NOT NULL;
    END LOOP;
    RETURN NEXT;
END;
$$;
