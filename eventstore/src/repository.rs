//! Loading and appending aggregates, one round trip each (docs/adr/0004-command-execution.md).
//!
//! The tables are postgres-es's (`events`, `snapshots`), with the same optimistic lock: the primary key
//! `(aggregate_type, aggregate_id, sequence)`. postgres-es itself loads a snapshotted aggregate with two
//! queries and appends with BEGIN, one INSERT per event, COMMIT; a command then needed six round trips with
//! the position read-back. Here the load is one query and the append one statement that returns the
//! position, which is what makes a command cost a small multiple of a bare insert.

use std::collections::HashMap;

use cqrs_es::{Aggregate, DomainEvent};
use serde_json::Value;
use sqlx::{PgPool, Row};

use crate::position::Position;

/// An aggregate as loaded: its state and version.
pub struct Loaded<A> {
    pub aggregate: A,
    pub version: u64,
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

const LOAD: &str = "\
WITH snap AS (
    SELECT last_sequence, payload FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2
)
SELECT true AS is_snapshot, last_sequence AS sequence, payload FROM snap
UNION ALL
SELECT false, e.sequence, e.payload FROM events e
WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
  AND e.sequence > COALESCE((SELECT last_sequence FROM snap), 0)
ORDER BY sequence, is_snapshot DESC";

const APPEND: &str = "\
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    SELECT $1, $2, u.sequence, u.event_type, u.event_version, u.payload::json, $7::json
    FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
        AS u(sequence, event_type, event_version, payload, n)
    ORDER BY u.n
    RETURNING transaction_id, position
)
SELECT transaction_id::text::bigint AS xid, position FROM appended ORDER BY position DESC LIMIT 1";

const APPEND_WITH_SNAPSHOT: &str = "\
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    SELECT $1, $2, u.sequence, u.event_type, u.event_version, u.payload::json, $7::json
    FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
        AS u(sequence, event_type, event_version, payload, n)
    ORDER BY u.n
    RETURNING transaction_id, position
), snapshot AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    VALUES ($1, $2, $8, $9, $10::json)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
        SET last_sequence = EXCLUDED.last_sequence, current_snapshot = EXCLUDED.current_snapshot,
            payload = EXCLUDED.payload
        WHERE snapshots.last_sequence < EXCLUDED.last_sequence
)
SELECT transaction_id::text::bigint AS xid, position FROM appended ORDER BY position DESC LIMIT 1";

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
        for row in rows {
            let payload: Value = row.try_get("payload")?;
            version = row.try_get::<i64, _>("sequence")? as u64;
            if row.try_get::<bool, _>("is_snapshot")? {
                aggregate = serde_json::from_value(payload)?;
            } else {
                aggregate.apply(serde_json::from_value(payload)?);
            }
        }
        Ok(Loaded { aggregate, version })
    }

    /// Appends `events` after `version` in one atomic statement, with a snapshot of `aggregate` (already
    /// holding the events) when `snapshot_every` says one is due. Returns the last event's position.
    pub async fn append<A: Aggregate>(
        &self,
        id: &str,
        version: u64,
        events: &[A::Event],
        metadata: &HashMap<String, String>,
        aggregate: &A,
        snapshot_every: Option<u64>,
    ) -> Result<Position, RepositoryError> {
        let new_version = version + events.len() as u64;
        let sequences: Vec<i64> = (version + 1..=new_version).map(|s| s as i64).collect();
        let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
        let versions: Vec<String> = events.iter().map(DomainEvent::event_version).collect();
        let payloads = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<String>, _>>()?;
        let metadata = serde_json::to_string(metadata)?;
        let snapshot_due = snapshot_every.filter(|n| *n > 0 && new_version / n > version / n);
        let query = match snapshot_due {
            None => sqlx::query(APPEND),
            Some(_) => sqlx::query(APPEND_WITH_SNAPSHOT),
        };
        let mut query = query
            .bind(A::TYPE)
            .bind(id)
            .bind(&sequences)
            .bind(&types)
            .bind(&versions)
            .bind(&payloads)
            .bind(&metadata);
        if let Some(every) = snapshot_due {
            query = query
                .bind(new_version as i64)
                .bind((new_version / every) as i64)
                .bind(serde_json::to_string(aggregate)?);
        }
        let row = query
            .fetch_one(&self.pool)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(e) if e.code().as_deref() == Some("23505") => {
                    RepositoryError::Conflict
                }
                _ => RepositoryError::Database(error),
            })?;
        Ok(Position::new(
            row.try_get::<i64, _>("xid")? as u64,
            row.try_get("position")?,
        ))
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
