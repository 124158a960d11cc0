-- Estimated size of one topic, for Admin/DescribeTopic. Partitions with statistics are
-- estimated from the topic_id frequencies ANALYZE collected; partitions never analyzed are
-- counted (they are new and small: autovacuum analyzes a partition once it has grown).
CREATE OR REPLACE FUNCTION eventstream.topic_size_estimate(topic integer, OUT events bigint, OUT bytes bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    part       record;
    fraction   double precision;
    rows_found bigint;
BEGIN
    events := 0;
    bytes := 0;
    FOR part IN
        SELECT c.oid, c.relname, c.reltuples, pg_total_relation_size(c.oid) AS size
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'eventstream.events'::regclass
    LOOP
        IF part.reltuples < 0 THEN
            EXECUTE format('SELECT count(*) FROM eventstream.%I WHERE topic_id = $1', part.relname) INTO rows_found USING topic;
            IF rows_found > 0 THEN
                EXECUTE format('SELECT count(*) FROM eventstream.%I', part.relname) INTO fraction;
                events := events + rows_found;
                bytes := bytes + (part.size * rows_found / greatest(fraction, 1))::bigint;
            END IF;
        ELSIF part.reltuples > 0 THEN
            SELECT coalesce(
                       s.most_common_freqs[array_position(s.most_common_vals::text::int[], topic)],
                       -- Not among the most common values: share the rest evenly.
                       (1 - coalesce((SELECT sum(f) FROM unnest(s.most_common_freqs) f), 0))
                         / greatest(CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * part.reltuples ELSE s.n_distinct END
                                    - coalesce(array_length(s.most_common_freqs, 1), 0), 1))
            INTO fraction
            FROM pg_stats s
            WHERE s.schemaname = 'eventstream' AND s.tablename = part.relname AND s.attname = 'topic_id';
            events := events + (part.reltuples * coalesce(fraction, 0))::bigint;
            bytes := bytes + (part.size * coalesce(fraction, 0))::bigint;
        END IF;
    END LOOP;
END;
$$;
