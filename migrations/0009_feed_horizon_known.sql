-- The feed's horizon without a scan of `pg_stat_activity` on every read (docs/adr/0017). Each feed keeps the
-- transactions it has already proven to belong to other databases (by the two sightings of migration 0007)
-- and leaves them out of the horizon; it looks for new ones only when the same transaction has held the
-- horizon for a while. Transaction ids here are 64-bit (`xid8`), which are never reused.

-- The first transaction id the feed may not read yet, in the calling statement's snapshot: the oldest
-- running transaction that is not one of `elsewhere`, or the snapshot's xmax when there is none.
CREATE FUNCTION feed_horizon_excluding(elsewhere bigint[]) RETURNS xid8
    LANGUAGE sql STABLE AS
$$
SELECT LEAST(pg_snapshot_xmax(pg_current_snapshot()), min(running.xid))
FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
WHERE NOT running.xid::text::bigint = ANY (elsewhere)
$$;

-- The running transactions of the calling statement's snapshot, as 64-bit ids, that belong to other
-- databases: seen there by `seen_before` (what feed_xids_elsewhere() answered in an earlier statement) and
-- again now.
CREATE FUNCTION feed_running_elsewhere(seen_before bigint[]) RETURNS bigint[]
    LANGUAGE sql STABLE AS
$$
SELECT COALESCE(array_agg(running.xid::text::bigint), '{}')
FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
WHERE xid(running.xid)::text::bigint = ANY (seen_before)
  AND xid(running.xid)::text::bigint = ANY (feed_xids_elsewhere())
$$;
