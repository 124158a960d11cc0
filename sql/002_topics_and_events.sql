-- Topics, the events table and the state behind idempotent produce.

-- Width of the events table's time partitions, fixed when the cluster is created: retention
-- drops whole partitions, so it is also the granularity of cheap expiry.
ALTER TABLE eventstream.cluster
    ADD COLUMN IF NOT EXISTS partition_interval interval NOT NULL DEFAULT interval '1 hour'
        CHECK (partition_interval >= interval '1 minute');

CREATE TABLE IF NOT EXISTS eventstream.topics (
    topic_id    integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,249}$'),
    retention   interval    NOT NULL CHECK (retention > interval '0'),
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Event ids come in blocks of a million: a broker takes a block with one nextval and gives each
-- batch a contiguous range from it, so a batch is described by its first id and its size.
CREATE SEQUENCE IF NOT EXISTS eventstream.event_id_blocks INCREMENT BY 1000000 MINVALUE 1 START WITH 1;

-- Insert-only. Rows of deleted topics (topic_id no longer in topics) are purged by maintenance.
CREATE TABLE IF NOT EXISTS eventstream.events (
    topic_id      integer     NOT NULL,
    shard         integer     NOT NULL,
    event_id      bigint      NOT NULL,
    ingest_time   timestamptz NOT NULL,
    producer_time timestamptz,
    key           bytea,
    payload       bytea       NOT NULL,
    headers       jsonb,
    content_type  text
) PARTITION BY RANGE (ingest_time);

-- Per producer and topic: the next sequence number expected and the last batches stored, so a
-- retried batch is acknowledged again instead of stored twice. Ordered by first_sequence.
CREATE TABLE IF NOT EXISTS eventstream.producer_sequences (
    producer_id   text        NOT NULL,
    topic_id      integer     NOT NULL,
    next_sequence bigint      NOT NULL,
    -- [{"first_sequence": n, "count": n, "first_event_id": n, "ingest_time": "..."}], newest last
    recent        jsonb       NOT NULL DEFAULT '[]',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (producer_id, topic_id)
);

-- Creates the missing partitions from the one holding now() - behind to the one holding
-- now() + ahead. Safe to call concurrently; returns how many it created.
CREATE OR REPLACE FUNCTION eventstream.ensure_partitions(
    behind interval DEFAULT interval '1 hour',
    ahead  interval DEFAULT interval '1 day')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    width   interval;
    origin  constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    lower   timestamptz;
    upper   timestamptz;
    name    text;
    created integer := 0;
BEGIN
    -- Serialises creators; CREATE TABLE ... PARTITION OF is not safe to race.
    PERFORM pg_advisory_xact_lock(hashtext('eventstream.ensure_partitions'));
    SELECT partition_interval INTO width FROM eventstream.cluster;
    lower := date_bin(width, now() - behind, origin);
    WHILE lower <= now() + ahead LOOP
        upper := lower + width;
        name := 'events_' || to_char(lower AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI');
        IF to_regclass(format('eventstream.%I', name)) IS NULL THEN
            EXECUTE format('CREATE TABLE eventstream.%I PARTITION OF eventstream.events FOR VALUES FROM (%L) TO (%L)',
                           name, lower, upper);
            created := created + 1;
        END IF;
        lower := upper;
    END LOOP;
    RETURN created;
END;
$$;

SELECT eventstream.ensure_partitions();
