-- The event store: postgres-es's tables, plus what the feed and the audit log need.
-- postgres-es inserts (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata);
-- every other column has a default or is filled by the trigger below, so postgres-es needs no change.

CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 1) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    -- json, not jsonb: the text is kept byte for byte, so the audit hash can be recomputed from it.
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Global order of insertion; commits may make it visible out of order, see transaction_id.
    position       bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction: the feed reads in (transaction_id, position) order.
    transaction_id xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid                         NOT NULL DEFAULT gen_random_uuid(),
    recorded_at    timestamptz                  NOT NULL DEFAULT clock_timestamp(),
    -- sha256(previous hash of the stream || content), set by events_chain(); see docs/adr/0001.
    hash           bytea                        NOT NULL DEFAULT ''::bytea,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_feed_order ON events (transaction_id, position);
CREATE UNIQUE INDEX events_event_id ON events (event_id);
CREATE INDEX events_type_order ON events (aggregate_type, transaction_id, position);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- The last sequence and hash of every stream, so that deleting a stream's tail is found too.
CREATE TABLE stream_heads
(
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    last_sequence  bigint NOT NULL,
    last_hash      bytea  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- The bytes that an event's hash covers. The verifier in eventstore/src/audit.rs rebuilds the same bytes
-- independently; keep both in step.
CREATE FUNCTION event_digest_input(e events) RETURNS bytea
    LANGUAGE sql IMMUTABLE AS
$$
SELECT convert_to(concat_ws(chr(31),
                            e.aggregate_type, e.aggregate_id, e.sequence::text, e.event_type, e.event_version,
                            e.payload::text, e.metadata::text, e.event_id::text,
                            (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text), 'UTF8')
$$;

CREATE FUNCTION events_chain() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    previous bytea;
BEGIN
    IF NEW.sequence = 1 THEN
        previous := ''::bytea;
    ELSE
        SELECT last_hash INTO previous
        FROM stream_heads
        WHERE aggregate_type = NEW.aggregate_type
          AND aggregate_id = NEW.aggregate_id
          AND last_sequence = NEW.sequence - 1;
        IF previous IS NULL THEN
            -- The previous event is missing or not committed yet: a concurrent writer got there first.
            RAISE EXCEPTION 'stream %/% has no event %', NEW.aggregate_type, NEW.aggregate_id, NEW.sequence - 1
                USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    NEW.hash := sha256(previous || event_digest_input(NEW));
    INSERT INTO stream_heads (aggregate_type, aggregate_id, last_sequence, last_hash)
    VALUES (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.hash)
    ON CONFLICT (aggregate_type, aggregate_id)
        DO UPDATE SET last_sequence = EXCLUDED.last_sequence, last_hash = EXCLUDED.last_hash;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_chain
    BEFORE INSERT
    ON events
    FOR EACH ROW
EXECUTE FUNCTION events_chain();
