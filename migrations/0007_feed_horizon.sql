-- The feed's horizon is the shop's own database (docs/adr/0011). `pg_snapshot_xmin(pg_current_snapshot())`
-- is the oldest transaction running anywhere on the server, so one open transaction in another database
-- used to stall every subscriber. The horizon is now the oldest transaction in the snapshot that is not
-- known to belong to another database, or the snapshot's xmax when there is none.
--
-- "Known" means seen in another database twice: once by `feed_xids_elsewhere()` in a statement before the
-- snapshot, and again by `feed_horizon()` in the statement that takes it. pg_stat_activity pairs a backend's
-- database with the transaction id read from its process slot; a slot handed to a new backend between those
-- two reads could show a transaction of this database under another's name once, never twice. A transaction
-- that is not excluded only holds the feed back; it can never make it skip an event.

-- Transactions that are writing now in other databases of this server (prepared ones included).
CREATE FUNCTION feed_xids_elsewhere() RETURNS bigint[]
    LANGUAGE sql STABLE AS
$$
SELECT COALESCE(array_agg(xid), '{}')
FROM (SELECT backend_xid::text::bigint AS xid
      FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL
        AND datname IS DISTINCT FROM current_database()
      UNION ALL
      SELECT transaction::text::bigint
      FROM pg_prepared_xacts
      WHERE database <> current_database()) AS elsewhere
$$;

-- The first transaction id the feed may not read yet, in the calling statement's snapshot. `seen_before`
-- is what feed_xids_elsewhere() answered before this statement began.
CREATE FUNCTION feed_horizon(seen_before bigint[]) RETURNS xid8
    LANGUAGE sql STABLE AS
$$
SELECT LEAST(pg_snapshot_xmax(pg_current_snapshot()), min(running.xid))
FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
WHERE NOT (xid(running.xid)::text::bigint = ANY (seen_before)
    AND xid(running.xid)::text::bigint = ANY (feed_xids_elsewhere()))
$$;
