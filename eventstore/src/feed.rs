//! The feed: every event, in an order that never skips one, for projectors, the relay, replay and audit.
//!
//! Transactions commit out of order, so an event with a smaller `position` may become visible after one with
//! a larger. The feed reads in `(transaction id, position)` order and only from transactions older than the
//! oldest one still running in the shop's database (the horizon): such a transaction can no longer add
//! events, so nothing can appear behind a checkpoint once the feed has passed it. Transactions of other
//! databases on the same server are left out of the horizon, so they hold the feed back for a moment at most
//! (`migrations/0007_feed_horizon.sql`, docs/adr/0011): each feed remembers the ones it has proven to be
//! elsewhere, and looks for new ones only when the same transaction has held its horizon for
//! [`HOLD_BEFORE_CHECK`], since looking costs two scans of `pg_stat_activity` (migration 0009, docs/adr/0017).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::position::Position;
use crate::tail::FeedTail;

/// An event as stored, with everything the audit log and the subscribers need.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: Position,
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    /// The audit hash, hex encoded.
    pub hash: String,
}

const COLUMNS: &str = "transaction_id::text::bigint AS xid, position, event_id, aggregate_type, aggregate_id, \
     sequence, event_type, event_version, payload, metadata, recorded_at, hash";

impl StoredEvent {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: Position::new(
                row.try_get::<i64, _>("xid")? as u64,
                row.try_get("position")?,
            ),
            event_id: row.try_get("event_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at: row.try_get("recorded_at")?,
            hash: hex::encode(row.try_get::<Vec<u8>, _>("hash")?),
        })
    }

    /// The payload as readers want it: the event's own fields (without the enum's variant wrapper), with
    /// secrets such as password hashes redacted. The stored payload is unchanged; its hash still covers it.
    pub fn public_payload(&self) -> Value {
        let inner = match &self.payload {
            Value::Object(map) if map.len() == 1 && map.contains_key(&self.event_type) => {
                map[&self.event_type].clone()
            }
            other => other.clone(),
        };
        redact(inner)
    }

    /// A metadata field as text (`user_id`, `correlation_id`, ...).
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

/// Fields whose values never leave the store.
const SECRET_FIELDS: [&str; 1] = ["password_hash"];

fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if SECRET_FIELDS.contains(&k.as_str()) {
                        Value::from("<redacted>")
                    } else {
                        redact(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// Narrows the feed for the audit endpoints.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub aggregate_type: Option<String>,
    pub event_type: Option<String>,
    pub user_id: Option<String>,
}

impl EventFilter {
    /// Whether it keeps every event.
    pub fn is_empty(&self) -> bool {
        self.aggregate_type.is_none() && self.event_type.is_none() && self.user_id.is_none()
    }
}

/// How long the same transaction may hold a feed's horizon before the feed asks whether it belongs to
/// another database. Transactions of the shop's own database come and go within milliseconds under load;
/// asking on every read cost two scans of `pg_stat_activity`, about a millisecond each (docs/adr/0017).
pub const HOLD_BEFORE_CHECK: Duration = Duration::from_millis(20);
/// How long before the same holder is asked about again, should a check have missed it (a transaction that
/// had not yet shown its id in `pg_stat_activity`, say).
const RECHECK: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Feed {
    pool: PgPool,
    /// The process's shared tail of the feed, read before the database when given.
    tail: Option<FeedTail>,
    /// What this feed knows of the transactions holding its horizon; shared by its clones.
    horizon: Arc<Mutex<Horizon>>,
}

/// One read of the feed: its events, and what held the horizon in its snapshot.
struct Read {
    events: Vec<StoredEvent>,
    /// The transaction that the horizon stopped at, when it stopped below the snapshot's `xmax`.
    holder: Option<i64>,
    /// The snapshot's oldest running transaction, anywhere on the server.
    xmin: i64,
}

/// The transactions a feed has proven to belong to other databases, and how long one has held its horizon.
#[derive(Debug, Default)]
struct Horizon {
    /// 64-bit transaction ids, which are never reused; forgotten once the snapshot's xmin passes them.
    elsewhere: Vec<i64>,
    /// The transaction holding the horizon, and since when, as the reads saw it.
    held: HorizonAge,
    /// When the present holder was last asked about.
    checked: Option<Instant>,
}

impl Horizon {
    /// Takes what a read at `now` saw; answers whether to ask now whether the holder belongs to another
    /// database: only once the same one has held the horizon for [`HOLD_BEFORE_CHECK`], and then every
    /// [`RECHECK`].
    fn observe(&mut self, holder: Option<i64>, xmin: i64, now: Instant) -> bool {
        self.elsewhere.retain(|xid| *xid >= xmin);
        let held_for = self.held.observe(holder.map(|xid| xid as u64), now);
        if held_for.is_zero() {
            // Nothing holds it, or another transaction does from now on.
            self.checked = None;
        }
        let due = held_for >= HOLD_BEFORE_CHECK
            && self
                .checked
                .is_none_or(|at| now.duration_since(at) >= RECHECK);
        if due {
            self.checked = Some(now);
        }
        due
    }

    /// Adds transactions proven to be elsewhere; answers whether any was new.
    fn learn(&mut self, elsewhere: Vec<i64>) -> bool {
        let before = self.elsewhere.len();
        for xid in elsewhere {
            if !self.elsewhere.contains(&xid) {
                self.elsewhere.push(xid);
            }
        }
        self.elsewhere.len() > before
    }
}

impl Feed {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            tail: None,
            horizon: Arc::default(),
        }
    }

    /// A feed whose [`Feed::read_after`] answers from `tail` whenever it holds the stretch asked for.
    pub fn with_tail(mut self, tail: FeedTail) -> Self {
        self.tail = Some(tail);
        self
    }

    /// Up to `limit` events after `after`, in feed order. An empty answer means the subscriber is caught up.
    pub async fn read_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        if let Some(events) = self.tail.as_ref().and_then(|tail| tail.after(after, limit)) {
            return Ok(events);
        }
        self.read_filtered(after, limit, &EventFilter::default())
            .await
    }

    /// Like [`Feed::read_after`], keeping only the events that match `filter`.
    pub async fn read_filtered(
        &self,
        after: Position,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let read = self.read_below_horizon(after, limit, filter).await?;
        let check = self
            .horizon()
            .observe(read.holder, read.xmin, Instant::now());
        if !check {
            return Ok(read.events);
        }
        let elsewhere = self.running_elsewhere().await?;
        if !self.horizon().learn(elsewhere) {
            return Ok(read.events);
        }
        Ok(self.read_below_horizon(after, limit, filter).await?.events)
    }

    fn horizon(&self) -> std::sync::MutexGuard<'_, Horizon> {
        self.horizon.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One statement: the horizon of its snapshot, leaving out the transactions known to be elsewhere, and
    /// the events below it. The horizon's row comes even when no event does. `OFFSET 0` keeps the horizon a
    /// subquery of its own: flattened, its expressions were computed again for every row of the answer
    /// (a batch of 5,000 product events took 32 ms instead of 8).
    async fn read_below_horizon(
        &self,
        after: Position,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Read, sqlx::Error> {
        let elsewhere = self.horizon().elsewhere.clone();
        let sql = format!(
            "SELECT horizon.*, events.* FROM \
               (SELECT feed_horizon_excluding($7)::text::bigint AS horizon_xid, \
                       pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS snapshot_xmin, \
                       pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS snapshot_xmax \
                OFFSET 0) AS horizon \
             LEFT JOIN LATERAL (SELECT {COLUMNS} FROM events \
               WHERE (transaction_id, position) > ($1::text::xid8, $2) \
                 AND transaction_id < horizon.horizon_xid::text::xid8 \
                 AND ($4::text IS NULL OR aggregate_type = $4) \
                 AND ($5::text IS NULL OR event_type = $5) \
                 AND ($6::text IS NULL OR metadata->>'user_id' = $6) \
               ORDER BY transaction_id, position LIMIT $3) AS events ON true"
        );
        let query = sqlx::query(&sql)
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(limit)
            .bind(&filter.aggregate_type)
            .bind(&filter.event_type)
            .bind(&filter.user_id)
            .bind(&elsewhere);
        let rows = if filter.is_empty() {
            query.fetch_all(&self.pool).await?
        } else {
            // The feed's order is an index's order (`events_feed_order`, or `events_type_order` for one
            // aggregate type): read it in that order, never by fetching every match and sorting it. Without
            // statistics (a store just seeded or restored) the planner guesses that few rows match a filter
            // and sorts them all — 100,000 product events, 150 ms for each batch of 5,000.
            let mut transaction = self.pool.begin().await?;
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut *transaction)
                .await?;
            let rows = query.fetch_all(&mut *transaction).await?;
            transaction.commit().await?;
            rows
        };
        let Some(first) = rows.first() else {
            return Err(sqlx::Error::RowNotFound);
        };
        let (horizon, xmin, xmax): (i64, i64, i64) = (
            first.try_get("horizon_xid")?,
            first.try_get("snapshot_xmin")?,
            first.try_get("snapshot_xmax")?,
        );
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<Uuid>, _>("event_id")?.is_some() {
                events.push(StoredEvent::from_row(row)?);
            }
        }
        // The lateral read's order; sorting what is already sorted is one pass.
        events.sort_by_key(|event| event.position);
        Ok(Read {
            events,
            holder: (horizon < xmax).then_some(horizon),
            xmin,
        })
    }

    /// One stream's events by sequence.
    pub async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
        );
        let rows = sqlx::query(&sql)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(StoredEvent::from_row).collect()
    }

    /// Transactions writing now in other databases of the server. Read in a statement of its own, before
    /// the one that takes the feed's snapshot: the horizon leaves out only transactions that both statements
    /// saw elsewhere (see `migrations/0007_feed_horizon.sql`).
    async fn xids_elsewhere(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT feed_xids_elsewhere()")
            .fetch_one(&self.pool)
            .await
    }

    /// The running transactions (64-bit ids) proven to belong to other databases: seen there by two
    /// statements in turn, as [`Feed::xids_elsewhere`] explains.
    async fn running_elsewhere(&self) -> Result<Vec<i64>, sqlx::Error> {
        let seen_before = self.xids_elsewhere().await?;
        if seen_before.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT feed_running_elsewhere($1)")
            .bind(&seen_before)
            .fetch_one(&self.pool)
            .await
    }

    /// The last `count` events the feed can deliver now, oldest first (for `shop events tail`).
    pub async fn last(&self, count: i64) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let elsewhere = self.xids_elsewhere().await?;
        let sql = format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM events \
               WHERE transaction_id < (SELECT feed_horizon($2)) \
               ORDER BY transaction_id DESC, position DESC LIMIT $1) AS tail \
             ORDER BY xid, position"
        );
        let rows = sqlx::query(&sql)
            .bind(count)
            .bind(&elsewhere)
            .fetch(&self.pool);
        rows.map_err(sqlx::Error::from)
            .and_then(|row| async move { StoredEvent::from_row(&row) })
            .try_collect()
            .await
    }

    /// Every committed event of these types of one aggregate type, in the order they were appended (for the
    /// media sweep, which needs the few image events of the whole catalog).
    pub async fn of_types(
        &self,
        aggregate_type: &str,
        event_types: &[&str],
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND event_type = ANY($2) ORDER BY position"
        );
        let rows = sqlx::query(&sql)
            .bind(aggregate_type)
            .bind(event_types)
            .fetch(&self.pool);
        rows.map_err(sqlx::Error::from)
            .and_then(|row| async move { StoredEvent::from_row(&row) })
            .try_collect()
            .await
    }

    /// Whether any stream of this type has events (e.g. "is there a catalog yet?").
    pub async fn has_events_of(&self, aggregate_type: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1)")
            .bind(aggregate_type)
            .fetch_one(&self.pool)
            .await
    }

    /// How many events the store holds (for progress bars).
    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
    }

    /// The feed's head: the last event that a subscriber can read now.
    pub async fn head(&self) -> Result<Option<Position>, sqlx::Error> {
        let elsewhere = self.xids_elsewhere().await?;
        let row = sqlx::query(
            "SELECT transaction_id::text::bigint AS xid, position FROM events \
             WHERE transaction_id < (SELECT feed_horizon($1)) \
             ORDER BY transaction_id DESC, position DESC LIMIT 1",
        )
        .bind(&elsewhere)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Position::new(row.get::<i64, _>("xid") as u64, row.get("position"))))
    }

    /// The transaction of the shop's database (prepared ones included) that holds the feed back now, if
    /// any: the oldest one still running. Needs no privilege, unlike the start times in
    /// `pg_stat_activity`, which a role sees only for its own sessions.
    pub async fn holding_transaction(&self) -> Result<Option<u64>, sqlx::Error> {
        let elsewhere = self.xids_elsewhere().await?;
        let row = sqlx::query(
            "SELECT (SELECT feed_horizon($1))::text::bigint AS horizon, \
                    pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax",
        )
        .bind(&elsewhere)
        .fetch_one(&self.pool)
        .await?;
        let (horizon, xmax): (i64, i64) = (row.try_get("horizon")?, row.try_get("xmax")?);
        Ok((horizon < xmax).then_some(horizon as u64))
    }
}

/// How long one transaction has been holding the feed back, from samples of [`Feed::holding_transaction`] (the
/// gauge) or of the reads themselves (when to ask about the holder): the time since the holder was first seen, 0
/// when nothing holds it.
#[derive(Debug, Default)]
pub struct HorizonAge {
    holder: Option<(u64, std::time::Instant)>,
}

impl HorizonAge {
    /// Takes a sample taken at `now`; returns how long the holder has held the feed, as far as seen.
    pub fn observe(&mut self, holder: Option<u64>, now: std::time::Instant) -> std::time::Duration {
        self.holder = match (holder, self.holder) {
            (Some(xid), Some((held, since))) if xid == held => Some((held, since)),
            (Some(xid), _) => Some((xid, now)),
            (None, _) => None,
        };
        self.holder
            .map_or(std::time::Duration::ZERO, |(_, since)| now - since)
    }
}

/// Durable checkpoints of the feed's subscribers.
#[derive(Clone)]
pub struct Checkpoints {
    pool: PgPool,
}

impl Checkpoints {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Where `subscriber` stopped; [`Position::START`] when it never ran.
    pub async fn load(&self, subscriber: &str) -> Result<Position, sqlx::Error> {
        let row = sqlx::query(
            "SELECT transaction_id::text::bigint AS xid, position FROM subscriptions WHERE name = $1",
        )
        .bind(subscriber)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or(Position::START, |row| {
            Position::new(row.get::<i64, _>("xid") as u64, row.get("position"))
        }))
    }

    pub async fn save(&self, subscriber: &str, position: Position) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO subscriptions (name, transaction_id, position) VALUES ($1, $2::text::xid8, $3) \
             ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, \
               position = EXCLUDED.position, updated_at = now()",
        )
        .bind(subscriber)
        .bind(position.transaction_id.to_string())
        .bind(position.position)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{HOLD_BEFORE_CHECK, Horizon, HorizonAge, RECHECK};

    #[test]
    fn it_should_ask_about_a_holder_only_once_it_has_held_the_horizon_for_a_while_then_seldom() {
        let start = Instant::now();
        let mut horizon = Horizon::default();
        assert!(!horizon.observe(None, 10, start), "nothing holds it");
        assert!(!horizon.observe(Some(10), 10, start), "first seen");
        assert!(
            !horizon.observe(Some(11), 11, start + HOLD_BEFORE_CHECK),
            "another one, first seen"
        );
        let later = start + HOLD_BEFORE_CHECK * 2;
        assert!(horizon.observe(Some(11), 11, later), "held long enough");
        assert!(
            !horizon.observe(Some(11), 11, later + RECHECK / 2),
            "asked about just now"
        );
        assert!(
            horizon.observe(Some(11), 11, later + RECHECK),
            "asked about again"
        );
        assert!(!horizon.observe(None, 12, later + RECHECK * 2));
        assert!(
            !horizon.observe(Some(11), 11, later + RECHECK * 2),
            "held again: a new sighting"
        );
    }

    #[test]
    fn it_should_remember_transactions_elsewhere_until_the_snapshot_passes_them() {
        let start = Instant::now();
        let mut horizon = Horizon::default();
        assert!(horizon.learn(vec![20, 30]));
        assert!(!horizon.learn(vec![30]), "known already");
        horizon.observe(None, 25, start);
        assert_eq!(
            horizon.elsewhere,
            [30],
            "20 has ended: the oldest running is 25"
        );
    }

    #[test]
    fn it_should_count_how_long_the_same_transaction_holds_the_feed_and_restart_for_another() {
        let start = Instant::now();
        let at = |s| start + Duration::from_secs(s);
        let mut age = HorizonAge::default();
        assert_eq!(age.observe(None, at(0)), Duration::ZERO);
        assert_eq!(age.observe(Some(7), at(5)), Duration::ZERO);
        assert_eq!(age.observe(Some(7), at(65)), Duration::from_secs(60));
        assert_eq!(
            age.observe(Some(9), at(70)),
            Duration::ZERO,
            "another holder"
        );
        assert_eq!(age.observe(Some(9), at(75)), Duration::from_secs(5));
        assert_eq!(age.observe(None, at(80)), Duration::ZERO);
    }
}
