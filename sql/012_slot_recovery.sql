-- A group whose slot was lost (a promoted standby has none of the primary's slots; a slot past
-- max_slot_wal_keep_size is invalidated) gets a new slot and reads again from the table what
-- followed its committed positions. When that last happened, for the group's description.
ALTER TABLE eventstream.consumer_groups ADD COLUMN IF NOT EXISTS slot_recreated_at timestamptz;
