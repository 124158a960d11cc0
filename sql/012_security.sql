-- Security: API keys of service principals (only salted PBKDF2 hashes, never the secret) and
-- access control lists. Brokers keep both in memory and reload them when security_version moves;
-- every change notifies the channel 'eventstream_security' so they reload at once.

CREATE TABLE IF NOT EXISTS eventstream.api_keys (
    -- The public part of a key (the key reads esk_<key_id>_<secret>), so a presented key is found
    -- without trying every hash.
    key_id      text        PRIMARY KEY,
    principal   text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    -- PBKDF2 with HMAC-SHA-256 of the secret; iterations are kept per key so they can grow.
    iterations  integer     NOT NULL CHECK (iterations > 0),
    salt        bytea       NOT NULL,
    hash        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- A revoked key stays listed; it no longer authenticates.
    revoked_at  timestamptz
);

CREATE INDEX IF NOT EXISTS api_keys_principal ON eventstream.api_keys (principal);

-- principal '*' is every authenticated principal. A prefix entry covers every name starting with
-- resource_name ('' covers all). Deny wins over allow.
CREATE TABLE IF NOT EXISTS eventstream.acls (
    acl_id        bigserial   PRIMARY KEY,
    principal     text        NOT NULL,
    resource_type text        NOT NULL CHECK (resource_type IN ('topic', 'group', 'cluster')),
    pattern_type  text        NOT NULL CHECK (pattern_type IN ('literal', 'prefix')),
    resource_name text        NOT NULL,
    operation     text        NOT NULL CHECK (operation IN ('produce', 'consume', 'describe', 'create', 'delete', 'alter', 'admin')),
    permission    text        NOT NULL CHECK (permission IN ('allow', 'deny')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (principal, resource_type, pattern_type, resource_name, operation, permission)
);

-- One row: grows with every change to api_keys or acls.
CREATE TABLE IF NOT EXISTS eventstream.security_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL
);
INSERT INTO eventstream.security_version (singleton, version) VALUES (true, 1) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION eventstream.security_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    next_version bigint;
BEGIN
    UPDATE eventstream.security_version SET version = version + 1 RETURNING version INTO next_version;
    PERFORM pg_notify('eventstream_security', next_version::text);
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS api_keys_changed ON eventstream.api_keys;
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON eventstream.api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION eventstream.security_changed();

DROP TRIGGER IF EXISTS acls_changed ON eventstream.acls;
CREATE TRIGGER acls_changed AFTER INSERT OR UPDATE OR DELETE ON eventstream.acls
    FOR EACH STATEMENT EXECUTE FUNCTION eventstream.security_changed();
