-- Several brokers on one database: each consumer group is run (its slot streamed, its leases
-- balanced, its events delivered) by one broker at a time, the holder of the group's
-- coordinator lease. Other brokers send the group's members to the holder's address.

-- One row per group that has had a coordinator. epoch grows with every new tenure (another
-- broker, or the same broker after its lease lapsed), so a holder can tell that it lost the lease
-- even when it gets it back. A released lease keeps its row (and epoch) with expires_at in the past.
CREATE TABLE IF NOT EXISTS eventstream.group_coordinators (
    group_name  text        PRIMARY KEY REFERENCES eventstream.consumer_groups ON DELETE CASCADE,
    broker_id   text        NOT NULL,
    -- Where members reach the holder, e.g. http://10.0.0.5:7400.
    address     text        NOT NULL,
    epoch       bigint      NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- Acquires or renews a group's coordinator lease for a broker: succeeds when the lease is free,
-- expired, or held by the same broker and not expired (a renewal, same epoch); a new tenure gets
-- the next epoch. Expiry is judged by the database clock. Returns the holder after the call and
-- whether it is the caller; the group must exist.
CREATE OR REPLACE FUNCTION eventstream.acquire_coordinator(name text, broker text, broker_address text, duration interval)
RETURNS TABLE (acquired boolean, holder text, holder_address text, lease_epoch bigint, lease_expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    moment timestamptz := clock_timestamp();
BEGIN
    IF duration <= interval '0' THEN
        RAISE EXCEPTION 'A coordinator lease needs a positive duration, not %.', duration;
    END IF;
    RETURN QUERY
    INSERT INTO eventstream.group_coordinators AS c (group_name, broker_id, address, epoch, acquired_at, expires_at)
    VALUES (name, broker, broker_address, 1, moment, moment + duration)
    ON CONFLICT (group_name) DO UPDATE
    SET broker_id = excluded.broker_id,
        address = excluded.address,
        epoch = CASE WHEN c.broker_id = excluded.broker_id AND c.expires_at > moment THEN c.epoch ELSE c.epoch + 1 END,
        acquired_at = CASE WHEN c.broker_id = excluded.broker_id AND c.expires_at > moment THEN c.acquired_at ELSE moment END,
        expires_at = excluded.expires_at
    WHERE c.broker_id = excluded.broker_id OR c.expires_at <= moment
    RETURNING true, c.broker_id, c.address, c.epoch, c.expires_at;
    IF NOT FOUND THEN
        -- Held by another broker: say which.
        RETURN QUERY
        SELECT false, c.broker_id, c.address, c.epoch, c.expires_at
        FROM eventstream.group_coordinators c WHERE c.group_name = name;
    END IF;
END;
$$;

-- Gives a lease up (on a clean stop) if the broker still holds it under that epoch, so another
-- broker may take the group at once. Returns whether it did.
CREATE OR REPLACE FUNCTION eventstream.release_coordinator(name text, broker text, held_epoch bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE eventstream.group_coordinators
    SET expires_at = clock_timestamp()
    WHERE group_name = name AND broker_id = broker AND epoch = held_epoch AND expires_at > clock_timestamp();
    RETURN FOUND;
END;
$$;

-- The broker holding a group's lease now, if any.
CREATE OR REPLACE FUNCTION eventstream.group_coordinator(name text)
RETURNS TABLE (holder text, holder_address text, lease_epoch bigint, lease_expires_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.broker_id, c.address, c.epoch, c.expires_at
    FROM eventstream.group_coordinators c
    WHERE c.group_name = name AND c.expires_at > clock_timestamp()
$$;
