-- The per-stream chain no longer keeps `stream_heads` (a second row written per event, the largest part of
-- an append's cost); deletions of a stream's last events and reorderings across streams are caught by seals
-- over the whole feed instead, written in batches off the command path. See docs/adr/0001.

CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    previous bytea;
BEGIN
    IF NEW.sequence = 1 THEN
        previous := ''::bytea;
    ELSE
        -- Rows inserted earlier by the same statement are visible here, so multi-event appends chain too.
        SELECT hash INTO previous
        FROM events
        WHERE aggregate_type = NEW.aggregate_type
          AND aggregate_id = NEW.aggregate_id
          AND sequence = NEW.sequence - 1;
        IF previous IS NULL THEN
            RAISE EXCEPTION 'stream %/% has no event %', NEW.aggregate_type, NEW.aggregate_id, NEW.sequence - 1
                USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    NEW.hash := sha256(previous || event_digest_input(NEW));
    RETURN NEW;
END
$$;

DROP TABLE stream_heads;

-- Seals over the feed: after each sealed batch, the running hash of every event hash so far in feed order.
CREATE TABLE audit_seals
(
    transaction_id xid8        NOT NULL,
    position       bigint      NOT NULL,
    sealed         bigint      NOT NULL,
    hash           bytea       NOT NULL,
    sealed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, position)
);
