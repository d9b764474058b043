//! Verification of the audit chain (docs/adr/0001).
//!
//! At insert, each event stores `sha256(hash of the stream's previous event || content)`, computed by the
//! command bus (or by a trigger for rows inserted without one, such as postgres-es's). In the background,
//! [`seal`] extends a running hash over every event hash in feed order and records it after each
//! batch. Here both are recomputed independently of the database's functions: a changed event breaks its own
//! hash, a deleted or reordered one breaks the link of the next or its sequence, and any deletion, change or
//! reordering before a seal — a stream's last events included — breaks that seal.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::feed::Feed;
use crate::position::Position;

/// One place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The position of the first event found wrong (the feed's `position` column), or `None` when the
    /// event it concerns is gone.
    pub position: Option<i64>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub ok: bool,
    /// How many events were checked.
    pub checked: u64,
    pub broken: Vec<BrokenLink>,
}

/// An event's audit hash: `sha256(previous || content)`, where `previous` is the hash of the stream's
/// previous event (empty for the first). The command bus computes it at append; the verifier recomputes it.
pub(crate) fn event_hash(previous: &[u8], content: &[u8]) -> Vec<u8> {
    Sha256::new()
        .chain_update(previous)
        .chain_update(content)
        .finalize()
        .to_vec()
}

/// The bytes an event's hash covers: the same fields, separator and formats as `event_digest_input` in
/// migrations/0001_event_store.sql.
#[allow(clippy::too_many_arguments)]
pub(crate) fn digest_input(
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    event_type: &str,
    event_version: &str,
    payload: &str,
    metadata: &str,
    event_id: &str,
    recorded_at: DateTime<Utc>,
) -> Vec<u8> {
    let micros = recorded_at.timestamp_micros().to_string();
    let sequence = sequence.to_string();
    [
        aggregate_type,
        aggregate_id,
        &sequence,
        event_type,
        event_version,
        payload,
        metadata,
        event_id,
        &micros,
    ]
    .join("\u{1f}")
    .into_bytes()
}

/// Seals the feed up to its head: extends the running hash over every event hash in feed order and records
/// it. One process seals at a time (a transaction-scoped advisory lock); returns how many events it sealed.
pub async fn seal(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('audit-seal'))")
            .fetch_one(&mut *transaction)
            .await?;
    if !locked {
        return Ok(0);
    }
    let last = sqlx::query(
        "SELECT transaction_id::text::bigint AS xid, position, sealed, hash FROM audit_seals \
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(&mut *transaction)
    .await?;
    let (mut after, mut sealed, mut running) = match last {
        Some(row) => (
            Position::new(row.get::<i64, _>("xid") as u64, row.get("position")),
            row.get::<i64, _>("sealed"),
            row.get::<Vec<u8>, _>("hash"),
        ),
        None => (Position::START, 0, Vec::new()),
    };
    let feed = Feed::new(pool.clone());
    let mut total = 0;
    loop {
        let events = feed.read_after(after, 5000).await?;
        let Some(last) = events.last() else { break };
        for event in &events {
            running = chain(&running, &event.hash);
        }
        sealed += events.len() as i64;
        total += events.len() as u64;
        after = last.position;
        sqlx::query("INSERT INTO audit_seals (transaction_id, position, sealed, hash) VALUES ($1::text::xid8, $2, $3, $4)")
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(sealed)
            .bind(&running)
            .execute(&mut *transaction)
            .await?;
    }
    transaction.commit().await?;
    Ok(total)
}

/// The last position sealed so far, by any process; `None` before the first seal.
pub async fn sealed_through(pool: &PgPool) -> Result<Option<Position>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT transaction_id::text::bigint AS xid, position FROM audit_seals \
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| Position::new(row.get::<i64, _>("xid") as u64, row.get("position"))))
}

/// The running feed hash after one more event.
fn chain(running: &[u8], event_hash_hex: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(running)
        .chain_update(event_hash_hex.as_bytes())
        .finalize()
        .to_vec()
}

/// Recomputes the feed's running hash and compares it with every seal: an event deleted, changed or moved
/// anywhere before a seal breaks it.
async fn verify_seals(pool: &PgPool, broken: &mut Vec<BrokenLink>) -> Result<(), sqlx::Error> {
    let seals = sqlx::query(
        "SELECT transaction_id::text::bigint AS xid, position, sealed, hash FROM audit_seals \
         ORDER BY transaction_id, position",
    )
    .fetch_all(pool)
    .await?;
    let feed = Feed::new(pool.clone());
    let (mut after, mut running, mut counted, mut previous) =
        (Position::START, Vec::new(), 0i64, Position::START);
    for seal in seals {
        let sealed_at = Position::new(seal.get::<i64, _>("xid") as u64, seal.get("position"));
        loop {
            let events = feed.read_after(after, 5000).await?;
            let within: Vec<_> = events
                .iter()
                .take_while(|e| e.position <= sealed_at)
                .collect();
            for event in &within {
                running = chain(&running, &event.hash);
            }
            counted += within.len() as i64;
            match within.last() {
                Some(last) => after = last.position,
                None => break,
            }
            if within.len() < events.len() || events.is_empty() {
                break;
            }
        }
        if running != seal.get::<Vec<u8>, _>("hash") || counted != seal.get::<i64, _>("sealed") {
            broken.push(BrokenLink {
                position: None,
                aggregate_type: String::new(),
                aggregate_id: String::new(),
                sequence: 0,
                reason: format!(
                    "events between positions {} and {} were deleted, changed or reordered after they were sealed",
                    previous.position, sealed_at.position
                ),
            });
            return Ok(());
        }
        previous = sealed_at;
    }
    Ok(())
}

struct Stream {
    aggregate_type: String,
    aggregate_id: String,
    last_sequence: i64,
    last_hash: Vec<u8>,
}

/// Walks every stream in sequence order and checks each link, then the feed against its seals.
pub async fn verify(pool: &PgPool) -> Result<AuditReport, sqlx::Error> {
    let mut broken = Vec::new();
    let mut checked = 0;
    let mut current: Option<Stream> = None;
    let mut rows = sqlx::query(
        "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, \
                payload::text AS payload, metadata::text AS metadata, event_id::text AS event_id, \
                recorded_at, hash \
         FROM events ORDER BY aggregate_type, aggregate_id, sequence",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        checked += 1;
        let aggregate_type: String = row.get("aggregate_type");
        let aggregate_id: String = row.get("aggregate_id");
        let sequence: i64 = row.get("sequence");
        let position: i64 = row.get("position");
        let same_stream = current
            .as_ref()
            .is_some_and(|s| s.aggregate_type == aggregate_type && s.aggregate_id == aggregate_id);
        if !same_stream {
            current = None;
        }
        let stream = current.get_or_insert_with(|| Stream {
            aggregate_type: aggregate_type.clone(),
            aggregate_id: aggregate_id.clone(),
            last_sequence: 0,
            last_hash: Vec::new(),
        });
        let link = |reason: String| BrokenLink {
            position: Some(position),
            aggregate_type: aggregate_type.clone(),
            aggregate_id: aggregate_id.clone(),
            sequence,
            reason,
        };
        if sequence != stream.last_sequence + 1 {
            broken.push(link(format!(
                "sequence {sequence} follows {}: an event is missing or was moved",
                stream.last_sequence
            )));
        }
        let input = digest_input(
            &aggregate_type,
            &aggregate_id,
            sequence,
            row.get("event_type"),
            row.get("event_version"),
            row.get("payload"),
            row.get("metadata"),
            row.get("event_id"),
            row.get("recorded_at"),
        );
        let expected = event_hash(&stream.last_hash, &input);
        let stored: Vec<u8> = row.get("hash");
        if stored != expected {
            broken.push(link(
                "hash does not match the event's content and the previous event: it was changed, or the \
                 chain before it was"
                    .to_owned(),
            ));
        }
        stream.last_sequence = sequence;
        // Continue from the stored hash, so one changed event is reported once, not for its whole stream.
        stream.last_hash = stored;
    }
    drop(rows);
    verify_seals(pool, &mut broken).await?;
    broken.sort_by_key(|b| (b.position.is_none(), b.position));
    Ok(AuditReport {
        ok: broken.is_empty(),
        checked,
        broken,
    })
}
