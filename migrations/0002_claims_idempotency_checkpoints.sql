-- Values that must be unique across aggregates (emails, SKUs); see docs/adr/0002.
CREATE TABLE unique_claims
(
    kind       text        NOT NULL,
    value      text        NOT NULL,
    owner_id   text        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value)
);

-- Idempotency-Key records, kept 24 h; see docs/adr/0003.
CREATE TABLE idempotency_keys
(
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    -- NULL while the first request is still running.
    status       smallint,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Durable checkpoints of feed subscribers (projectors, relay).
CREATE TABLE subscriptions
(
    name           text PRIMARY KEY,
    transaction_id xid8        NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
