-- Retention and housekeeping: expire events by their topic's retention, forget idle producers,
-- keep partitions ahead of time. run_maintenance() does it all; pg_cron or the broker calls it.

-- Topics deleted, or whose retention was shortened: their rows may now be expired in any
-- partition, so expire_events sweeps every partition once for them, then forgets the row.
CREATE TABLE IF NOT EXISTS eventstream.topic_expiry_changes (
    topic_id   integer     PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION eventstream.note_topic_expiry_change()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- clock_timestamp(): now() would be the start of a possibly long transaction.
    INSERT INTO eventstream.topic_expiry_changes (topic_id, changed_at) VALUES (OLD.topic_id, clock_timestamp())
    ON CONFLICT (topic_id) DO UPDATE SET changed_at = excluded.changed_at;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER topic_deleted
    AFTER DELETE ON eventstream.topics
    FOR EACH ROW EXECUTE FUNCTION eventstream.note_topic_expiry_change();

CREATE OR REPLACE TRIGGER topic_retention_shortened
    AFTER UPDATE OF retention ON eventstream.topics
    FOR EACH ROW WHEN (NEW.retention < OLD.retention)
    EXECUTE FUNCTION eventstream.note_topic_expiry_change();

-- When each partition was last swept clean, so a sweep scans a partition only when something
-- new expired in it, not on every call.
CREATE TABLE IF NOT EXISTS eventstream.partition_sweeps (
    partition regclass    PRIMARY KEY,
    swept_at  timestamptz NOT NULL
);

-- The events table's partitions with the bounds read from the catalog, not from their names.
-- NULL bounds (MINVALUE, MAXVALUE, a default partition) are never swept nor dropped.
CREATE OR REPLACE FUNCTION eventstream.event_partitions()
RETURNS TABLE (partition regclass, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql STABLE
-- pg_get_expr prints the bounds in the session's DateStyle; ISO reads back the same everywhere.
SET datestyle = 'ISO, YMD'
AS $$
    SELECT c.oid::regclass,
           (regexp_match(b.expr, $r$FROM \('([^']*)'\)$r$))[1]::timestamptz,
           (regexp_match(b.expr, $r$TO \('([^']*)'\)$r$))[1]::timestamptz
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
    WHERE i.inhparent = 'eventstream.events'::regclass
$$;

-- Enforces each topic's retention by ingest_time, at partition granularity (like Kafka's
-- segments): a topic's rows in a partition go once the partition's upper bound is older than
-- the retention, so a row outlives its retention by at most one partition_interval.
--  * Partitions ending before now() - greatest(longest retention, min_age) are dropped.
--  * In younger partitions, rows of topics whose retention that partition has passed, and rows
--    of deleted topics, are deleted in batches of batch_size (DELETE by ctid), oldest partition
--    first, until time_budget is spent (at least one batch per call).
-- min_age keeps recently ended partitions for late writers (clock skew) and matches
-- ensure_partitions' default behind of 1 hour; settle is the same margin for sweeps.
-- Returns {"partitions_dropped": [...], "partitions_swept": n, "rows_deleted": n,
-- "rows_deleted_by_topic": {"<topic_id>": n}, "complete": bool}; complete is false when work
-- is left for the next call. Returns {"skipped": true} while another maintenance run holds the
-- lock.
CREATE OR REPLACE FUNCTION eventstream.expire_events(
    batch_size  integer  DEFAULT 10000,
    time_budget interval DEFAULT interval '10 seconds',
    min_age     interval DEFAULT interval '1 hour')
RETURNS jsonb
LANGUAGE plpgsql
-- Dropping a partition locks the events table; never queue producers behind a long reader.
SET lock_timeout = '500ms'
AS $$
DECLARE
    settle       constant interval    := interval '5 minutes';
    started      constant timestamptz := clock_timestamp();
    drop_before  timestamptz;
    p            record;
    resume_after tid;
    deleted      bigint;
    counts       jsonb;
    total        bigint  := 0;
    by_topic     jsonb   := '{}';
    swept        integer := 0;
    dropped      text[]  := '{}';
    dropped_name name;
    complete     boolean := true;
BEGIN
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be positive, not %', batch_size;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('eventstream.maintenance')) THEN
        RETURN jsonb_build_object('skipped', true);
    END IF;

    -- greatest() ignores the NULL of an empty topics table: then only min_age counts.
    SELECT now() - greatest(max(t.retention), min_age) INTO drop_before FROM eventstream.topics t;

    -- Deletes first, drops last: the events table stays locked from the first drop to commit.
    <<sweep>>
    FOR p IN
        SELECT e.partition, e.upper_bound
        FROM eventstream.event_partitions() e
        LEFT JOIN eventstream.partition_sweeps s ON s.partition = e.partition
        CROSS JOIN LATERAL (SELECT coalesce(s.swept_at, '-infinity') AS swept_at) l
        WHERE e.upper_bound > drop_before
          AND (
            -- A topic's retention (and the settle margin) passed this partition since its last sweep.
            EXISTS (SELECT 1 FROM eventstream.topics t
                    WHERE e.upper_bound + greatest(t.retention, settle) <= now()
                      AND e.upper_bound + greatest(t.retention, settle) > l.swept_at)
            -- A topic was deleted, or its retention shortened, since the last sweep.
            OR EXISTS (SELECT 1 FROM eventstream.topic_expiry_changes c
                       LEFT JOIN eventstream.topics t ON t.topic_id = c.topic_id
                       WHERE c.changed_at + settle <= now()
                         AND c.changed_at + settle > l.swept_at
                         AND (t.topic_id IS NULL OR e.upper_bound <= now() - t.retention)))
        ORDER BY e.upper_bound
    LOOP
        resume_after := '(0,0)';
        LOOP
            BEGIN
                -- A row goes when no topic it belongs to keeps rows of this partition's age.
                -- Each batch resumes after the last row of the previous one (TID range scan),
                -- so a partition is read once, not once per batch.
                EXECUTE format($q$
                    WITH doomed AS (
                        SELECT e.ctid FROM %1$s e
                        WHERE e.ctid > $3
                          AND NOT EXISTS (SELECT 1 FROM eventstream.topics t
                                          WHERE t.topic_id = e.topic_id AND t.retention > $1)
                        LIMIT $2),
                    gone AS (
                        DELETE FROM %1$s e WHERE e.ctid = ANY (ARRAY(SELECT ctid FROM doomed))
                        RETURNING e.topic_id, e.ctid),
                    per_topic AS (SELECT topic_id, count(*) AS n FROM gone GROUP BY topic_id)
                    SELECT (SELECT coalesce(sum(n), 0) FROM per_topic),
                           (SELECT coalesce(jsonb_object_agg(topic_id, n), '{}') FROM per_topic),
                           (SELECT max(ctid) FROM gone)$q$, p.partition)
                INTO deleted, counts, resume_after
                USING now() - p.upper_bound, batch_size, resume_after;
            EXCEPTION WHEN lock_not_available THEN
                complete := false;
                EXIT sweep;
            END;

            total := total + deleted;
            SELECT coalesce(jsonb_object_agg(k, coalesce((by_topic ->> k)::bigint, 0) + coalesce((counts ->> k)::bigint, 0)), '{}')
            INTO by_topic
            FROM (SELECT jsonb_object_keys(by_topic) UNION SELECT jsonb_object_keys(counts)) AS keys (k);

            IF deleted < batch_size THEN
                INSERT INTO eventstream.partition_sweeps (partition, swept_at) VALUES (p.partition, now())
                ON CONFLICT (partition) DO UPDATE SET swept_at = excluded.swept_at;
                swept := swept + 1;
            END IF;
            IF clock_timestamp() - started >= time_budget THEN
                complete := false;
                EXIT sweep;
            END IF;
            EXIT WHEN deleted < batch_size;
        END LOOP;
    END LOOP;

    -- A change is forgotten once every partition it concerns was swept after it settled.
    DELETE FROM eventstream.topic_expiry_changes c
    WHERE c.changed_at + settle <= now()
      AND NOT EXISTS (
        SELECT 1
        FROM eventstream.event_partitions() e
        LEFT JOIN eventstream.partition_sweeps s ON s.partition = e.partition
        LEFT JOIN eventstream.topics t ON t.topic_id = c.topic_id
        WHERE e.upper_bound > drop_before
          AND (t.topic_id IS NULL OR e.upper_bound <= now() - t.retention)
          AND coalesce(s.swept_at, '-infinity') < c.changed_at + settle);

    FOR p IN
        SELECT e.partition FROM eventstream.event_partitions() e
        WHERE e.upper_bound <= drop_before
        ORDER BY e.upper_bound
    LOOP
        SELECT c.relname INTO dropped_name FROM pg_class c WHERE c.oid = p.partition;
        BEGIN
            EXECUTE format('DROP TABLE %s', p.partition);
        EXCEPTION WHEN lock_not_available THEN
            -- Someone reads the table; the next call tries again.
            complete := false;
            EXIT;
        END;
        dropped := dropped || dropped_name::text;
    END LOOP;

    DELETE FROM eventstream.partition_sweeps s
    WHERE NOT EXISTS (SELECT 1 FROM eventstream.event_partitions() e WHERE e.partition = s.partition);

    RETURN jsonb_build_object(
        'partitions_dropped', to_jsonb(dropped),
        'partitions_swept', swept,
        'rows_deleted', total,
        'rows_deleted_by_topic', by_topic,
        'complete', complete);
END;
$$;

-- Forgets the idempotence state of producers idle for max_idle (a retry after that is stored
-- again, as Kafka does once a producer id expires) and of deleted topics; at most max_rows rows
-- per call. Returns how many rows it deleted.
CREATE OR REPLACE FUNCTION eventstream.expire_producers(
    max_idle interval DEFAULT interval '7 days',
    max_rows integer  DEFAULT 100000)
RETURNS bigint
LANGUAGE plpgsql
SET lock_timeout = '500ms'
AS $$
DECLARE
    deleted bigint;
BEGIN
    -- The condition is repeated outside: a row a producer updated meanwhile is a new version.
    DELETE FROM eventstream.producer_sequences p
    WHERE p.ctid = ANY (ARRAY(
            SELECT q.ctid FROM eventstream.producer_sequences q
            WHERE q.updated_at < now() - max_idle
               OR NOT EXISTS (SELECT 1 FROM eventstream.topics t WHERE t.topic_id = q.topic_id)
            LIMIT max_rows))
      AND (p.updated_at < now() - max_idle
           OR NOT EXISTS (SELECT 1 FROM eventstream.topics t WHERE t.topic_id = p.topic_id));
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$;

-- The pg_cron job's name; one job per database.
CREATE OR REPLACE FUNCTION eventstream.maintenance_job_name()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT 'eventstream-maintenance' $$;

-- pg_cron keeps every run's details forever; drops those of the maintenance job older than
-- keep. 0 when pg_cron is not installed here or this role may not touch its tables.
CREATE OR REPLACE FUNCTION eventstream.expire_cron_history(keep interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    deleted bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN 0;
    END IF;
    DELETE FROM cron.job_run_details r
    WHERE r.ctid = ANY (ARRAY(
        SELECT d.ctid FROM cron.job_run_details d
        WHERE d.jobid IN (SELECT j.jobid FROM cron.job j WHERE j.jobname = eventstream.maintenance_job_name())
          AND d.end_time < now() - keep
        LIMIT 10000));
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN 0;
END;
$$;

-- One maintenance pass; what pg_cron runs every minute and the broker runs without it.
-- Returns expire_events' summary plus producers_expired, members_expired, partitions_created,
-- cron_history_expired, deferred (steps that met a lock and wait for the next call),
-- duration_ms and skipped (true, and nothing else, while another run holds the lock).
CREATE OR REPLACE FUNCTION eventstream.run_maintenance(time_budget interval DEFAULT interval '10 seconds')
RETURNS jsonb
LANGUAGE plpgsql
SET lock_timeout = '500ms'
AS $$
DECLARE
    started   constant timestamptz := clock_timestamp();
    summary   jsonb;
    deferred  text[]  := '{}';
    producers bigint  := 0;
    members   integer := 0;
    created   integer := 0;
BEGIN
    -- Concurrent runs (pg_cron and brokers) would only repeat each other's work.
    IF NOT pg_try_advisory_xact_lock(hashtext('eventstream.maintenance')) THEN
        RETURN jsonb_build_object('skipped', true);
    END IF;

    BEGIN
        producers := eventstream.expire_producers();
    EXCEPTION WHEN lock_not_available THEN
        deferred := deferred || 'expire_producers'::text;
    END;

    -- Consumer groups come with a later migration; tidy their expired members once they exist.
    IF to_regprocedure('eventstream.expire_leases()') IS NOT NULL THEN
        BEGIN
            EXECUTE 'SELECT eventstream.expire_leases()' INTO members;
        EXCEPTION WHEN lock_not_available THEN
            deferred := deferred || 'expire_leases'::text;
        END;
    END IF;

    summary := eventstream.expire_events(time_budget => time_budget);

    -- After the deletes: creating a partition also locks the events table until commit.
    BEGIN
        created := eventstream.ensure_partitions();
    EXCEPTION WHEN lock_not_available THEN
        deferred := deferred || 'ensure_partitions'::text;
    END;

    RETURN summary || jsonb_build_object(
        'skipped', false,
        'complete', (summary ->> 'complete')::boolean AND cardinality(deferred) = 0,
        'producers_expired', producers,
        'members_expired', members,
        'partitions_created', created,
        'cron_history_expired', eventstream.expire_cron_history(),
        'deferred', to_jsonb(deferred),
        'duration_ms', round(extract(epoch FROM clock_timestamp() - started) * 1000));
END;
$$;

-- Schedules run_maintenance() every minute (pg_cron's finest schedule before 1.5) under
-- maintenance_job_name(), when pg_cron is installed in this database. Returns the job id, or
-- NULL without pg_cron. An existing job is left as it is, paused (active = false) included,
-- unless recreate: then it is removed and scheduled again, which makes pg_cron reload its jobs
-- (pg_cron 1.4 can miss a job change when many catalog changes happen at once, and then never
-- run the job; a job owner may not use cron.alter_job there, but may do this).
-- Called by the broker at start, not by this migration: pg_cron may be created after the
-- migrations ran, and the broker's configuration decides whether to use it.
CREATE OR REPLACE FUNCTION eventstream.schedule_maintenance(recreate boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    job_command constant text := 'SELECT eventstream.run_maintenance()';
    job_id      bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN NULL;
    END IF;
    IF recreate THEN
        PERFORM cron.unschedule(j.jobid)
        FROM cron.job j
        WHERE j.jobname = eventstream.maintenance_job_name() AND j.username = current_user;
    END IF;
    SELECT j.jobid INTO job_id
    FROM cron.job j
    WHERE j.jobname = eventstream.maintenance_job_name()
      AND j.username = current_user
      AND j.database = current_database()
      AND j.schedule = '* * * * *'
      AND j.command = job_command;
    IF FOUND THEN
        RETURN job_id;
    END IF;
    -- With a job name, cron.schedule updates that job instead of adding one.
    RETURN cron.schedule(eventstream.maintenance_job_name(), '* * * * *', job_command);
END;
$$;

-- The maintenance job in this database, if any: whether it is active, whether a pg_cron
-- scheduler is running for this database (a job outlives a server restarted without pg_cron
-- preloaded), whether runs are logged (cron.log_run; NULL when this role may not read it), and
-- its last run. No row without pg_cron or without the job.
CREATE OR REPLACE FUNCTION eventstream.maintenance_job()
RETURNS TABLE (job_id bigint, active boolean, scheduler_running boolean, runs_logged boolean,
               last_status text, last_start timestamptz, since_last_start interval, last_message text)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT j.jobid, j.active,
           -- backend_type is hidden from other roles; the application name is not.
           EXISTS (SELECT 1 FROM pg_stat_activity a
                   WHERE a.datname = current_database()
                     AND (a.backend_type = 'pg_cron launcher' OR a.application_name = 'pg_cron scheduler')),
           -- pg_settings, not current_setting(): the setting is superuser-only.
           (SELECT s.setting::boolean FROM pg_settings s WHERE s.name = 'cron.log_run'),
           r.status, r.start_time, now() - r.start_time, r.return_message
    FROM cron.job j
    LEFT JOIN LATERAL (
        SELECT d.status, d.start_time, d.return_message
        FROM cron.job_run_details d
        WHERE d.jobid = j.jobid
        ORDER BY d.runid DESC
        LIMIT 1) r ON true
    WHERE j.jobname = eventstream.maintenance_job_name()
      AND j.database = current_database();
END;
$$;
