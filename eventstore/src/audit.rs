//! Verification of the audit chain (docs/adr/0001).
//!
//! At insert, a trigger stores in each event `sha256(hash of the stream's previous event || content)` and
//! records the stream's last sequence and hash in `stream_heads`. Here the chain is recomputed independently
//! of the database's functions: a changed event breaks its own hash, a deleted or reordered one breaks the
//! link of the next, and a deleted tail no longer matches `stream_heads`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

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

/// The bytes an event's hash covers: the same fields, separator and formats as `event_digest_input` in
/// migrations/0001_event_store.sql.
#[allow(clippy::too_many_arguments)]
fn digest_input(
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

struct Stream {
    aggregate_type: String,
    aggregate_id: String,
    last_sequence: i64,
    last_hash: Vec<u8>,
}

/// Walks every stream in sequence order and checks each link, then the heads.
pub async fn verify(pool: &PgPool) -> Result<AuditReport, sqlx::Error> {
    let mut heads: HashMap<(String, String), (i64, Vec<u8>)> = HashMap::new();
    let mut rows = sqlx::query(
        "SELECT aggregate_type, aggregate_id, last_sequence, last_hash FROM stream_heads",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        heads.insert(
            (row.get("aggregate_type"), row.get("aggregate_id")),
            (row.get("last_sequence"), row.get("last_hash")),
        );
    }
    drop(rows);

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
        if !same_stream && let Some(done) = current.take() {
            check_head(&done, &mut heads, &mut broken);
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
        let expected = Sha256::new()
            .chain_update(&stream.last_hash)
            .chain_update(&input)
            .finalize()
            .to_vec();
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
    if let Some(done) = current.take() {
        check_head(&done, &mut heads, &mut broken);
    }
    for ((aggregate_type, aggregate_id), (last_sequence, _)) in heads {
        broken.push(BrokenLink {
            position: None,
            aggregate_type,
            aggregate_id,
            sequence: last_sequence,
            reason: "the stream's events are gone".to_owned(),
        });
    }
    broken.sort_by_key(|b| (b.position.is_none(), b.position));
    Ok(AuditReport {
        ok: broken.is_empty(),
        checked,
        broken,
    })
}

fn check_head(
    stream: &Stream,
    heads: &mut HashMap<(String, String), (i64, Vec<u8>)>,
    broken: &mut Vec<BrokenLink>,
) {
    let key = (stream.aggregate_type.clone(), stream.aggregate_id.clone());
    let problem = match heads.remove(&key) {
        None => Some(format!(
            "stream has no recorded head; its last event is {}",
            stream.last_sequence
        )),
        Some((sequence, _)) if sequence != stream.last_sequence => Some(format!(
            "the stream ends at sequence {} but its head records {sequence}: events were deleted",
            stream.last_sequence
        )),
        Some((_, hash)) if hash != stream.last_hash => {
            Some("the stream's last hash differs from its recorded head".to_owned())
        }
        Some(_) => None,
    };
    if let Some(reason) = problem {
        broken.push(BrokenLink {
            position: None,
            aggregate_type: stream.aggregate_type.clone(),
            aggregate_id: stream.aggregate_id.clone(),
            sequence: stream.last_sequence,
            reason,
        });
    }
}
