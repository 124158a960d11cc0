-- A produce transaction records the sequence state it reached, but only over the state it
-- checked its batches against. A broker checks a producer's batches against the state it
-- remembers from its own last commit, without reading the row first; when another broker served
-- the producer meanwhile the row moved on, this fails with serialization_failure, and the broker
-- checks the batches again against the stored row. The remembered batches are compared too: the
-- next sequence alone could match a row another broker wrote.
CREATE OR REPLACE FUNCTION eventstream.advance_producer_sequences(
    producer_ids text[], topic_ids integer[], expected_next bigint[], expected_recent text[], new_next bigint[], new_recent text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    advanced integer;
BEGIN
    UPDATE eventstream.producer_sequences AS s
    SET next_sequence = u.n, recent = u.r::jsonb, updated_at = now()
    FROM unnest(producer_ids, topic_ids, expected_next, expected_recent, new_next, new_recent) AS u(p, t, e, er, n, r)
    WHERE s.producer_id = u.p AND s.topic_id = u.t AND s.next_sequence = u.e AND s.recent = u.er::jsonb;
    GET DIAGNOSTICS advanced = ROW_COUNT;
    IF advanced <> cardinality(producer_ids) THEN
        RAISE EXCEPTION 'producer sequences changed since they were checked'
            USING ERRCODE = 'serialization_failure';
    END IF;
END;
$$;
