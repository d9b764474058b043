-- Durable reservation expiries: one row per reservation the saga made, due when the hold lapses. A sweeper
-- releases a hold still open at that time (the product records nothing if it was committed or released).
CREATE TABLE reservation_expiries
(
    product_id text        NOT NULL,
    order_id   text        NOT NULL,
    due_at     timestamptz NOT NULL,
    fired      boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (product_id, order_id)
);
CREATE INDEX reservation_expiries_due ON reservation_expiries (due_at) WHERE NOT fired;
