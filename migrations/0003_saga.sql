-- Durable timers of the checkout saga: a payment deadline survives restarts.
CREATE TABLE saga_timers
(
    order_id text PRIMARY KEY,
    due_at   timestamptz NOT NULL,
    fired    boolean     NOT NULL DEFAULT false
);
CREATE INDEX saga_timers_due ON saga_timers (due_at) WHERE NOT fired;

-- Messages a consumer has handled, by event id, so that a redelivered one is skipped outright.
CREATE TABLE saga_handled
(
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
