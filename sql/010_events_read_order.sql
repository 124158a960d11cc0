-- Reading a topic from the table (a group's first read from earliest or a time, a reset, a
-- recovery) walks its events in event id order: a range scan of this index, linear in what is
-- read, instead of a scan and sort of every partition per page. Partitions, existing and
-- future, get it from the partitioned table; on Citus it is created on every shard.
CREATE INDEX IF NOT EXISTS events_topic_event ON eventstream.events (topic_id, event_id);
