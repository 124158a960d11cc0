-- EventStream's own schema, the migration ledger and the cluster's fixed settings.
-- Every migration is idempotent: it may run again on a database that already has it.

CREATE SCHEMA IF NOT EXISTS eventstream;

-- One row per applied sql/ file; the broker writes it in the same transaction as the file.
CREATE TABLE IF NOT EXISTS eventstream.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Settings chosen once, when the cluster is created. shard_count cannot change later:
-- events are placed on shards by hash, and consumer groups lease shards.
CREATE TABLE IF NOT EXISTS eventstream.cluster (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    shard_count integer     NOT NULL DEFAULT 32 CHECK (shard_count BETWEEN 1 AND 4096),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- At most one row.
CREATE UNIQUE INDEX IF NOT EXISTS cluster_single_row ON eventstream.cluster ((true));

INSERT INTO eventstream.cluster DEFAULT VALUES ON CONFLICT DO NOTHING;
