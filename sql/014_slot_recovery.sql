-- A group whose slot was lost (a promoted standby has none of the primary's slots; a slot past
-- max_slot_wal_keep_size is invalidated) gets a new slot and reads again from the table what
-- followed its committed positions. A group had a slot once it was made (a new group has none
-- yet, and must not read the past); when the loss last happened, for the group's description.
ALTER TABLE eventstream.consumer_groups ADD COLUMN IF NOT EXISTS slot_created_at timestamptz;
ALTER TABLE eventstream.consumer_groups ADD COLUMN IF NOT EXISTS slot_recreated_at timestamptz;
-- Groups of earlier versions that finished their table read have streamed from a slot.
UPDATE eventstream.consumer_groups SET slot_created_at = created_at
WHERE slot_created_at IS NULL AND backfill_done;
