-- Idempotency-Key records that survive a crash (docs/adr/0012). A claim is a lease: `lease` names the request
-- that holds the key until `lease_until`. The command's events commit in one transaction with `committed`,
-- the answer the request gives, and only while the lease is still that request's. So after any crash the key
-- is either committed (a retry gets the answer) or not (a retry takes the lease over once it has lapsed and
-- runs the request afresh).
ALTER TABLE idempotency_keys
    ADD COLUMN lease       uuid,
    -- A row inserted without a lease (rows claimed before this migration, or by a process still running
    -- the older code during a rolling upgrade) is held for 30 s, longer than such a request takes.
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now() + interval '30 seconds',
    ADD COLUMN committed   jsonb;
