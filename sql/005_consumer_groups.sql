-- Consumer groups: members, shard leases with fencing epochs, committed positions, and the
-- publication the groups' replication slots stream from.

CREATE TABLE IF NOT EXISTS eventstream.consumer_groups (
    group_name     text        PRIMARY KEY CHECK (group_name ~ '^[A-Za-z0-9._-]{1,249}$'),
    -- Exact topic names, or prefix patterns ending in '*'.
    topics         text[]      NOT NULL,
    -- Where a new group starts: events ingested from this time on are read from the table
    -- before the stream (-infinity: every retained event; null: only what comes after the slot).
    backfill_from  timestamptz,
    -- When the group's slot was created; the table read stops there. Null until then.
    backfill_until timestamptz,
    backfill_done  boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_active_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS eventstream.group_members (
    group_name      text        NOT NULL REFERENCES eventstream.consumer_groups ON DELETE CASCADE,
    member_id       text        NOT NULL,
    session_timeout interval    NOT NULL CHECK (session_timeout > interval '0'),
    joined_at       timestamptz NOT NULL DEFAULT now(),
    last_heartbeat  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_name, member_id)
);

-- One row per group and shard. owner is null while unclaimed; new_owner asks the owner to hand
-- the shard over after committing. epoch grows with every change of owner: a commit carrying an
-- older epoch comes from a member that no longer holds the shard and is rejected.
CREATE TABLE IF NOT EXISTS eventstream.leases (
    consumer_group text        NOT NULL REFERENCES eventstream.consumer_groups ON DELETE CASCADE,
    shard_id       integer     NOT NULL,
    owner          text,
    new_owner      text,
    epoch          bigint      NOT NULL DEFAULT 0,
    last_heartbeat timestamptz,
    PRIMARY KEY (consumer_group, shard_id)
);

-- Where a group stands on a shard: the last committed event's commit LSN, its ordinal in that
-- transaction and its id, on the node that committed it. Positions order by
-- (commit_lsn, ordinal, event_id); events read from the table when the group started have
-- commit_lsn 0/0 and ordinal 0.
CREATE TABLE IF NOT EXISTS eventstream.positions (
    consumer_group text        NOT NULL REFERENCES eventstream.consumer_groups ON DELETE CASCADE,
    shard_id       integer     NOT NULL,
    node           integer     NOT NULL DEFAULT 0,
    commit_lsn     pg_lsn      NOT NULL,
    ordinal        bigint      NOT NULL,
    event_id       bigint      NOT NULL,
    committed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, shard_id)
);

-- The events the groups' slots decode: inserts only, named as the partitioned table.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'eventstream_events') THEN
        CREATE PUBLICATION eventstream_events FOR TABLE eventstream.events
            WITH (publish = 'insert', publish_via_partition_root = true);
    END IF;
END;
$$;

-- Creates a group with a lease row per shard, or updates its topics. Returns true when created.
CREATE OR REPLACE FUNCTION eventstream.ensure_group(name text, topic_patterns text[], start_from timestamptz DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    shards integer;
BEGIN
    INSERT INTO eventstream.consumer_groups (group_name, topics, backfill_from, backfill_done)
    VALUES (name, topic_patterns, start_from, start_from IS NULL)
    ON CONFLICT (group_name) DO NOTHING;
    IF NOT FOUND THEN
        UPDATE eventstream.consumer_groups SET topics = topic_patterns, last_active_at = now()
        WHERE group_name = name AND topics IS DISTINCT FROM topic_patterns;
        RETURN false;
    END IF;
    SELECT shard_count INTO shards FROM eventstream.cluster;
    INSERT INTO eventstream.leases (consumer_group, shard_id)
    SELECT name, s FROM generate_series(0, shards - 1) AS s;
    RETURN true;
END;
$$;

-- Whether a lease's owner has missed its heartbeats, judged by the database clock.
CREATE OR REPLACE FUNCTION eventstream.lease_expired(lease eventstream.leases)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT lease.owner IS NULL
        OR NOT EXISTS (
            SELECT FROM eventstream.group_members m
            WHERE m.group_name = lease.consumer_group AND m.member_id = lease.owner
              AND m.last_heartbeat >= now() - m.session_timeout)
$$;

-- Claims a shard for a member: at once when it is unclaimed or its owner expired; otherwise
-- asks the owner to hand it over (new_owner). Returns true when the member now owns it.
CREATE OR REPLACE FUNCTION eventstream.claim_lease(name text, shard integer, member text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lease eventstream.leases;
BEGIN
    SELECT * INTO lease FROM eventstream.leases
    WHERE consumer_group = name AND shard_id = shard FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF lease.owner = member THEN
        RETURN true;
    END IF;
    IF eventstream.lease_expired(lease) THEN
        UPDATE eventstream.leases
        SET owner = member, new_owner = NULL, epoch = epoch + 1, last_heartbeat = now()
        WHERE consumer_group = name AND shard_id = shard;
        RETURN true;
    END IF;
    UPDATE eventstream.leases SET new_owner = member
    WHERE consumer_group = name AND shard_id = shard AND new_owner IS DISTINCT FROM member;
    RETURN false;
END;
$$;

-- One balancing round for a member, as the Event Hubs processor balances partitions: renew the
-- member and its leases; with min = shards / live members and max = min + 1 (when shards do not
-- divide evenly), claim unclaimed or expired shards while below max, then, still below min, ask
-- for at most one shard from the member holding the most. Returns the member's leases; handing_over is true where another member asked
-- for the shard: finish, commit and release it.
CREATE OR REPLACE FUNCTION eventstream.obtain_leases(name text, member text, timeout interval)
RETURNS TABLE (shard integer, epoch bigint, handing_over boolean)
LANGUAGE plpgsql AS $$
DECLARE
    live_members integer;
    shards       integer;
    minimum      integer;
    maximum      integer;
    mine         integer;
    candidate    record;
BEGIN
    INSERT INTO eventstream.group_members (group_name, member_id, session_timeout)
    VALUES (name, member, timeout)
    ON CONFLICT (group_name, member_id)
    DO UPDATE SET last_heartbeat = now(), session_timeout = excluded.session_timeout;
    UPDATE eventstream.consumer_groups SET last_active_at = now() WHERE group_name = name;
    UPDATE eventstream.leases l SET last_heartbeat = now() WHERE l.consumer_group = name AND l.owner = member;

    -- One balancing round at a time per group: rounds judge each other's counts.
    PERFORM pg_advisory_xact_lock(hashtext('eventstream.obtain_leases:' || name));

    SELECT count(*) INTO live_members FROM eventstream.group_members m
    WHERE m.group_name = name AND m.last_heartbeat >= now() - m.session_timeout;
    SELECT count(*) INTO shards FROM eventstream.leases l WHERE l.consumer_group = name;
    minimum := shards / greatest(live_members, 1);
    maximum := minimum + CASE WHEN shards % greatest(live_members, 1) > 0 THEN 1 ELSE 0 END;
    SELECT count(*) INTO mine FROM eventstream.leases l WHERE l.consumer_group = name AND l.owner = member;

    FOR candidate IN
        SELECT l.shard_id FROM eventstream.leases l
        WHERE l.consumer_group = name AND l.owner IS DISTINCT FROM member AND eventstream.lease_expired(l)
        ORDER BY l.shard_id
    LOOP
        EXIT WHEN mine >= maximum;
        IF eventstream.claim_lease(name, candidate.shard_id, member) THEN
            mine := mine + 1;
        END IF;
    END LOOP;

    IF mine < minimum AND NOT EXISTS (
        SELECT FROM eventstream.leases l WHERE l.consumer_group = name AND l.new_owner = member) THEN
        -- Below min with nothing left to claim, some owner holds more than min.
        SELECT l.shard_id INTO candidate
        FROM eventstream.leases l
        JOIN (SELECT l2.owner, count(*) AS held FROM eventstream.leases l2
              WHERE l2.consumer_group = name AND l2.owner IS NOT NULL AND l2.owner <> member
              GROUP BY l2.owner) o ON o.owner = l.owner
        WHERE l.consumer_group = name AND l.new_owner IS NULL AND o.held > minimum
        ORDER BY o.held DESC, l.shard_id DESC
        LIMIT 1;
        IF FOUND THEN
            PERFORM eventstream.claim_lease(name, candidate.shard_id, member);
        END IF;
    END IF;

    RETURN QUERY
    SELECT l.shard_id, l.epoch, l.new_owner IS NOT NULL
    FROM eventstream.leases l WHERE l.consumer_group = name AND l.owner = member
    ORDER BY l.shard_id;
END;
$$;

-- Gives a shard up: to the member that asked for it, or back to the pool.
CREATE OR REPLACE FUNCTION eventstream.release_lease(name text, shard integer, member text)
RETURNS void
LANGUAGE sql AS $$
    UPDATE eventstream.leases
    SET owner = new_owner, new_owner = NULL, epoch = epoch + 1,
        last_heartbeat = CASE WHEN new_owner IS NULL THEN NULL ELSE now() END
    WHERE consumer_group = name AND shard_id = shard AND owner = member
$$;

-- A clean leave: the member's shards go to whoever asked for them, or back to the pool.
CREATE OR REPLACE FUNCTION eventstream.leave_group(name text, member text)
RETURNS void
LANGUAGE sql AS $$
    UPDATE eventstream.leases
    SET owner = new_owner, new_owner = NULL, epoch = epoch + 1,
        last_heartbeat = CASE WHEN new_owner IS NULL THEN NULL ELSE now() END
    WHERE consumer_group = name AND owner = member;
    UPDATE eventstream.leases SET new_owner = NULL WHERE consumer_group = name AND new_owner = member;
    DELETE FROM eventstream.group_members WHERE group_name = name AND member_id = member;
$$;

-- Forgets members that missed their heartbeats; their shards become claimable (expiry is judged
-- the same way when claiming, so this only tidies up). Returns how many members expired.
CREATE OR REPLACE FUNCTION eventstream.expire_leases()
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    expired integer;
BEGIN
    WITH gone AS (
        DELETE FROM eventstream.group_members m
        WHERE m.last_heartbeat < now() - m.session_timeout
        RETURNING m.group_name, m.member_id
    ), freed AS (
        UPDATE eventstream.leases l
        SET owner = NULL, new_owner = NULL, epoch = l.epoch + 1, last_heartbeat = NULL
        FROM gone WHERE l.consumer_group = gone.group_name AND l.owner = gone.member_id
        RETURNING 1
    )
    SELECT count(*) INTO expired FROM gone;
    UPDATE eventstream.leases l SET new_owner = NULL
    WHERE l.new_owner IS NOT NULL AND NOT EXISTS (
        SELECT FROM eventstream.group_members m WHERE m.group_name = l.consumer_group AND m.member_id = l.new_owner);
    RETURN expired;
END;
$$;

-- Records a member's progress on a shard. Rejected (returns false) unless the member owns the
-- shard under that epoch; positions only move forward.
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
    WHERE (p.commit_lsn, p.ordinal, p.event_id) < (excluded.commit_lsn, excluded.ordinal, excluded.event_id);
    UPDATE eventstream.leases SET last_heartbeat = now()
    WHERE consumer_group = name AND shard_id = shard;
    RETURN true;
END;
$$;
