//! Loading and appending aggregates, one round trip each (docs/adr/0004-command-execution.md).
//!
//! The tables are postgres-es's (`events`, `snapshots`), with the same optimistic lock: the primary key
//! `(aggregate_type, aggregate_id, sequence)`. postgres-es itself loads a snapshotted aggregate with two
//! queries and appends with BEGIN, one INSERT per event, COMMIT; a command then needed six round trips with
//! the position read-back. Here the load is one query and the append one statement that returns the
//! position, which is what makes a command cost a small multiple of a bare insert.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, SubsecRound, Utc};

use cqrs_es::{Aggregate, DomainEvent};
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::audit::{digest_input, event_hash};
use crate::position::Position;

/// An aggregate as loaded: its state, version and the audit hash of its last event (empty when new).
#[derive(Clone)]
pub struct Loaded<A> {
    pub aggregate: A,
    pub version: u64,
    pub head_hash: Vec<u8>,
}

/// Events ready to be appended to one stream, their audit hashes computed.
pub struct PreparedAppend {
    aggregate_type: &'static str,
    id: String,
    sequences: Vec<i64>,
    types: Vec<String>,
    versions: Vec<String>,
    payloads: Vec<String>,
    metadata: String,
    recorded_at: DateTime<Utc>,
    event_ids: Vec<Uuid>,
    hashes: Vec<Vec<u8>>,
    snapshot: Option<Snapshot>,
}

impl PreparedAppend {
    /// The hash of the last event, which the stream's next append chains to.
    pub fn last_hash(&self) -> Vec<u8> {
        self.hashes.last().cloned().unwrap_or_default()
    }

    /// The aggregate's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The sequence of the last event: the aggregate's version once written.
    pub fn last_sequence(&self) -> u64 {
        self.sequences.last().map_or(0, |s| *s as u64)
    }
}

/// A snapshot written with the append that makes it due.
struct Snapshot {
    last_sequence: i64,
    current_snapshot: i64,
    payload: String,
}

/// What an append wrote: the last event's position.
pub struct Appended {
    pub position: Position,
}

#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// Another writer appended at the same version first.
    #[error("optimistic lock: the aggregate was changed concurrently")]
    Conflict,
    #[error("stored data does not fit the aggregate: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

// Rows of three kinds: the snapshot (0), the events after it (1), and the stream's last event (2), whose
// hash the next append chains to even when the snapshot covers every event.
//
// Both reads of `events` are ordered by the primary key's columns, which only the primary key gives without a
// sort: the plan a connection keeps for this statement walks the stream's own entries whatever the table's
// statistics say. Without the order, a plan made while the store had no statistics (a new store, autovacuum
// off) read every event of the aggregate's type through `events_type_order` for each load, ever longer as the
// store grew (docs/performance.md).
const LOAD: &str = "\
WITH snap AS (
    SELECT last_sequence, payload FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2
)
SELECT 0 AS kind, last_sequence AS sequence, payload, NULL::bytea AS hash FROM snap
UNION ALL
(SELECT 1, e.sequence, e.payload, NULL FROM events e
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
   AND e.sequence > COALESCE((SELECT last_sequence FROM snap), 0)
 ORDER BY e.aggregate_type, e.aggregate_id, e.sequence)
UNION ALL
(SELECT 2, h.sequence, NULL, h.hash FROM events h
 WHERE h.aggregate_type = $1 AND h.aggregate_id = $2
 ORDER BY h.aggregate_type DESC, h.aggregate_id DESC, h.sequence DESC LIMIT 1)
ORDER BY sequence, kind";

// Every column the audit hash covers is sent, so the hash can be computed here rather than by the trigger,
// which only fills rows inserted without one (migrations/0005). One row per event, of any number of streams:
// the events of a unit's appends go in with one statement, in the order given.
const INSERT_EVENTS: &str = "\
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
                        event_id, recorded_at, hash)
    SELECT u.aggregate_type, u.aggregate_id, u.sequence, u.event_type, u.event_version, u.payload::json,
           u.metadata::json, u.event_id, u.recorded_at, u.hash
    FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::uuid[], $9::timestamptz[], $10::bytea[]) WITH ORDINALITY
        AS u(aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, event_id,
             recorded_at, hash, n)
    ORDER BY u.n
    RETURNING aggregate_type, aggregate_id, sequence, transaction_id, position";

fn append_query(with_snapshots: bool) -> String {
    let snapshots = if with_snapshots {
        ", snapshots_written AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    SELECT s.aggregate_type, s.aggregate_id, s.last_sequence, s.current_snapshot, s.payload::json
    FROM UNNEST($11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::text[])
        AS s(aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
        SET last_sequence = EXCLUDED.last_sequence, current_snapshot = EXCLUDED.current_snapshot,
            payload = EXCLUDED.payload
        WHERE snapshots.last_sequence < EXCLUDED.last_sequence
)"
    } else {
        ""
    };
    format!(
        "WITH appended AS ({INSERT_EVENTS}){snapshots}
SELECT aggregate_type, aggregate_id, sequence, transaction_id::text::bigint AS xid, position FROM appended"
    )
}

static APPEND: LazyLock<String> = LazyLock::new(|| append_query(false));
static APPEND_WITH_SNAPSHOTS: LazyLock<String> = LazyLock::new(|| append_query(true));

/// Reads and writes aggregates of every type over one pool.
#[derive(Clone)]
pub struct Repository {
    pool: PgPool,
}

impl Repository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The aggregate from its latest snapshot (if any) and the events after it.
    pub async fn load<A: Aggregate>(&self, id: &str) -> Result<Loaded<A>, RepositoryError> {
        let rows = sqlx::query(LOAD)
            .bind(A::TYPE)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let mut aggregate = A::default();
        let mut version = 0;
        let mut head_hash = Vec::new();
        for row in rows {
            match row.try_get::<i32, _>("kind")? {
                0 => aggregate = serde_json::from_value(row.try_get::<Value, _>("payload")?)?,
                1 => aggregate.apply(serde_json::from_value(row.try_get::<Value, _>("payload")?)?),
                _ => head_hash = row.try_get("hash")?,
            }
            version = row.try_get::<i64, _>("sequence")? as u64;
        }
        Ok(Loaded {
            aggregate,
            version,
            head_hash,
        })
    }

    /// Prepares the append of `events` after `version` (whose event's audit hash is `head_hash`), with a
    /// snapshot of `aggregate` (already holding the events) when `snapshot_every` says one is due: the rows
    /// with their audit hashes, ready for [`write`].
    #[allow(clippy::too_many_arguments)]
    pub fn prepare<A: Aggregate>(
        id: &str,
        version: u64,
        head_hash: &[u8],
        events: &[A::Event],
        metadata: &HashMap<String, String>,
        aggregate: &A,
        snapshot_every: Option<u64>,
    ) -> Result<PreparedAppend, RepositoryError> {
        let new_version = version + events.len() as u64;
        let sequences: Vec<i64> = (version + 1..=new_version).map(|s| s as i64).collect();
        let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
        let versions: Vec<String> = events.iter().map(DomainEvent::event_version).collect();
        let payloads = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<String>, _>>()?;
        let metadata = serde_json::to_string(metadata)?;
        // PostgreSQL keeps microseconds: hash exactly what it will store.
        let recorded_at = Utc::now().trunc_subsecs(6);
        let event_ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
        let hashes = chain_hashes(
            A::TYPE,
            id,
            head_hash,
            &sequences,
            &types,
            &versions,
            &payloads,
            &metadata,
            &event_ids,
            recorded_at,
        );
        let snapshot = match snapshot_every.filter(|n| *n > 0 && new_version / n > version / n) {
            Some(every) => Some(Snapshot {
                last_sequence: new_version as i64,
                current_snapshot: (new_version / every) as i64,
                payload: serde_json::to_string(aggregate)?,
            }),
            None => None,
        };
        Ok(PreparedAppend {
            aggregate_type: A::TYPE,
            id: id.to_owned(),
            sequences,
            types,
            versions,
            payloads,
            metadata,
            recorded_at,
            event_ids,
            hashes,
            snapshot,
        })
    }

    /// The pool, for appends that need no transaction of their own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The position of an aggregate's event, when a command appended nothing new.
    pub async fn position_of(
        &self,
        aggregate_type: &str,
        id: &str,
        sequence: u64,
    ) -> Result<Option<Position>, sqlx::Error> {
        if sequence == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT transaction_id::text::bigint AS xid, position FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
        )
        .bind(aggregate_type)
        .bind(id)
        .bind(sequence as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Position::new(row.get::<i64, _>("xid") as u64, row.get("position"))))
    }
}

/// Writes prepared appends, of one stream or several, in one statement, on the pool or inside the caller's
/// transaction: all of them or none. Returns each append's last event's position, in the order given;
/// [`RepositoryError::Conflict`] when another writer appended to one of the streams first.
pub async fn write<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    prepared: &[PreparedAppend],
) -> Result<Vec<Appended>, RepositoryError> {
    if prepared.is_empty() {
        return Ok(Vec::new());
    }
    let rows: usize = prepared.iter().map(|p| p.sequences.len()).sum();
    let mut columns = EventColumns::with_capacity(rows);
    for append in prepared {
        columns.extend(append);
    }
    // A unit may append to one stream twice (two commands on it): only its latest snapshot is written, as one
    // statement cannot upsert a row twice.
    let mut latest: Vec<(&PreparedAppend, &Snapshot)> = Vec::new();
    for append in prepared {
        let Some(snapshot) = &append.snapshot else {
            continue;
        };
        latest.retain(|(earlier, _)| {
            (earlier.aggregate_type, &earlier.id) != (append.aggregate_type, &append.id)
        });
        latest.push((append, snapshot));
    }
    let query = if latest.is_empty() {
        sqlx::query(&APPEND)
    } else {
        sqlx::query(&APPEND_WITH_SNAPSHOTS)
    };
    let mut query = query
        .bind(columns.aggregate_types)
        .bind(columns.ids)
        .bind(columns.sequences)
        .bind(columns.types)
        .bind(columns.versions)
        .bind(columns.payloads)
        .bind(columns.metadata)
        .bind(columns.event_ids)
        .bind(columns.recorded_at)
        .bind(columns.hashes);
    if !latest.is_empty() {
        let (mut types, mut ids, mut last, mut current, mut payloads) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (append, snapshot) in latest {
            types.push(append.aggregate_type);
            ids.push(append.id.as_str());
            last.push(snapshot.last_sequence);
            current.push(snapshot.current_snapshot);
            payloads.push(snapshot.payload.as_str());
        }
        query = query
            .bind(types)
            .bind(ids)
            .bind(last)
            .bind(current)
            .bind(payloads);
    }
    let written = query
        .fetch_all(executor)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(e) if e.code().as_deref() == Some("23505") => {
                RepositoryError::Conflict
            }
            _ => RepositoryError::Database(error),
        })?;
    let mut positions = HashMap::with_capacity(written.len());
    for row in &written {
        let key = (
            row.try_get::<String, _>("aggregate_type")?,
            row.try_get::<String, _>("aggregate_id")?,
            row.try_get::<i64, _>("sequence")?,
        );
        let position = Position::new(
            row.try_get::<i64, _>("xid")? as u64,
            row.try_get("position")?,
        );
        positions.insert(key, position);
    }
    prepared
        .iter()
        .map(|append| {
            let key = (
                append.aggregate_type.to_owned(),
                append.id.clone(),
                append.last_sequence() as i64,
            );
            positions
                .get(&key)
                .map(|position| Appended {
                    position: *position,
                })
                .ok_or_else(|| {
                    RepositoryError::Database(sqlx::Error::Protocol(format!(
                        "the append to {} {} returned no position",
                        append.aggregate_type, append.id
                    )))
                })
        })
        .collect()
}

/// The rows of [`INSERT_EVENTS`], one array per column.
struct EventColumns<'a> {
    aggregate_types: Vec<&'static str>,
    ids: Vec<&'a str>,
    sequences: Vec<i64>,
    types: Vec<&'a str>,
    versions: Vec<&'a str>,
    payloads: Vec<&'a str>,
    metadata: Vec<&'a str>,
    event_ids: Vec<Uuid>,
    recorded_at: Vec<DateTime<Utc>>,
    hashes: Vec<&'a [u8]>,
}

impl<'a> EventColumns<'a> {
    fn with_capacity(rows: usize) -> Self {
        Self {
            aggregate_types: Vec::with_capacity(rows),
            ids: Vec::with_capacity(rows),
            sequences: Vec::with_capacity(rows),
            types: Vec::with_capacity(rows),
            versions: Vec::with_capacity(rows),
            payloads: Vec::with_capacity(rows),
            metadata: Vec::with_capacity(rows),
            event_ids: Vec::with_capacity(rows),
            recorded_at: Vec::with_capacity(rows),
            hashes: Vec::with_capacity(rows),
        }
    }

    fn extend(&mut self, append: &'a PreparedAppend) {
        for i in 0..append.sequences.len() {
            self.aggregate_types.push(append.aggregate_type);
            self.ids.push(&append.id);
            self.sequences.push(append.sequences[i]);
            self.types.push(&append.types[i]);
            self.versions.push(&append.versions[i]);
            self.payloads.push(&append.payloads[i]);
            self.metadata.push(&append.metadata);
            self.event_ids.push(append.event_ids[i]);
            self.recorded_at.push(append.recorded_at);
            self.hashes.push(&append.hashes[i]);
        }
    }
}

/// The audit hashes of events appended after an event hashed `previous`, each chained to the one before.
#[allow(clippy::too_many_arguments)]
fn chain_hashes(
    aggregate_type: &str,
    id: &str,
    previous: &[u8],
    sequences: &[i64],
    types: &[String],
    versions: &[String],
    payloads: &[String],
    metadata: &str,
    event_ids: &[Uuid],
    recorded_at: DateTime<Utc>,
) -> Vec<Vec<u8>> {
    let mut previous = previous.to_vec();
    (0..sequences.len())
        .map(|i| {
            let content = digest_input(
                aggregate_type,
                id,
                sequences[i],
                &types[i],
                &versions[i],
                &payloads[i],
                metadata,
                &event_ids[i].to_string(),
                recorded_at,
            );
            previous = event_hash(&previous, &content);
            previous.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan a connection keeps for a load is a generic plan, and the first ones are made while the store is
    /// empty and has no statistics: even then it reads the stream by the primary key, never every event of the
    /// stream's type.
    #[tokio::test]
    async fn a_load_reads_its_stream_by_the_primary_key_even_with_a_plan_made_on_an_empty_store() {
        let (pool, _) = crate::testing::fresh_database().await;
        let mut connection = pool.acquire().await.unwrap();
        sqlx::query("SET plan_cache_mode = force_generic_plan")
            .execute(&mut *connection)
            .await
            .unwrap();
        sqlx::query(&format!("PREPARE load(text, text) AS {LOAD}"))
            .execute(&mut *connection)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE load('product', 'p-1')")
            .fetch_all(&mut *connection)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(!plan.contains("events_type_order"), "{plan}");
        assert_eq!(plan.matches("using events_pkey").count(), 2, "{plan}");
    }
}
