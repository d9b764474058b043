//! Rebuilding a view from the whole feed into a fresh generation, then swapping it in while the old one
//! keeps serving; and verifying the live documents against such a rebuild. Replay only writes read models:
//! it never sends a message, an email or a payment request.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use eventstore::db::PgPool;
use eventstore::{Feed, Position};

use crate::runner::{RunnerError, apply_events};
use crate::store::ReadStores;
use crate::view::{Versioned, View};

/// Replays read this many events per batch.
const REPLAY_BATCH: i64 = 2000;
/// Documents a build keeps in memory before writing them out.
const IN_MEMORY: usize = 200_000;
/// How long readers may keep using the old generation after the switch (they cache the pointer ~1 s).
const GRACE: Duration = Duration::from_secs(2);

/// Where a replay is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub elapsed: Duration,
}

impl Progress {
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    pub fn remaining(&self) -> Duration {
        let rate = self.rate();
        if rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.total.saturating_sub(self.done) as f64 / rate)
    }
}

/// Builds `generation` of `V` from the start of the feed until it is caught up (replacing whatever that
/// generation held); returns the events read.
///
/// Unlike the live runner, which loads and writes the documents of every batch, a build keeps the documents
/// in memory across batches and writes each once: into the empty generation with plain inserts at the end,
/// or, when more than `IN_MEMORY` documents are held, in between (as upserts, after which documents not in
/// memory are loaded again when an event needs them).
pub async fn build<V: View>(
    pool: &PgPool,
    stores: &ReadStores,
    generation: u64,
    progress: &mut impl FnMut(Progress),
) -> Result<u64, RunnerError> {
    build_holding::<V>(pool, stores, generation, IN_MEMORY, progress).await
}

/// [`build`], writing out whenever `in_memory` documents are held (tests make it small).
pub async fn build_holding<V: View>(
    pool: &PgPool,
    stores: &ReadStores,
    generation: u64,
    in_memory: usize,
    progress: &mut impl FnMut(Progress),
) -> Result<u64, RunnerError> {
    stores.drop_generation::<V>(generation).await?;
    let feed = Feed::new(pool.clone());
    let total = feed.count().await?.max(0) as u64;
    let started = Instant::now();
    let mut docs: HashMap<String, Versioned<V>> = HashMap::new();
    let mut written_before = false;
    let mut after = Position::START;
    let mut done = 0;
    loop {
        let events = feed.read_after(after, REPLAY_BATCH).await?;
        let Some(last) = events.last() else { break };
        after = last.position;
        if written_before {
            let missing: BTreeSet<String> = events
                .iter()
                .filter_map(V::key)
                .filter(|key| !docs.contains_key(key))
                .collect();
            let missing: Vec<String> = missing.into_iter().collect();
            docs.extend(stores.load::<V>(generation, &missing).await?);
        }
        apply_events(&mut docs, &events);
        done += events.len() as u64;
        progress(Progress {
            done,
            total: total.max(done),
            elapsed: started.elapsed(),
        });
        if docs.len() >= in_memory {
            let batch: Vec<(String, Versioned<V>)> = docs.drain().collect();
            stores.save::<V>(generation, &batch, after).await?;
            written_before = true;
        }
    }
    let batch: Vec<(String, Versioned<V>)> = docs.into_iter().collect();
    if written_before {
        stores.save::<V>(generation, &batch, after).await?;
    } else if done > 0 {
        stores.insert_new::<V>(generation, &batch, after).await?;
    }
    Ok(done)
}

/// Rebuilds `V` into the next generation and makes it the one readers and the live runner use.
pub async fn replay<V: View>(
    pool: &PgPool,
    stores: &ReadStores,
    mut progress: impl FnMut(Progress),
) -> Result<u64, RunnerError> {
    let live = stores.active_generation::<V>().await?;
    let next = live + 1;
    let events = build::<V>(pool, stores, next, &mut progress).await?;
    // Indexed after the bulk insert (cheaper than keeping them up during it), before readers switch.
    stores.create_indexes::<V>(next).await?;
    stores.activate::<V>(next).await?;
    tokio::time::sleep(GRACE).await;
    stores.drop_generation::<V>(live).await?;
    Ok(events)
}

/// A document that differs between the live view and a rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub key: String,
    pub live: Option<serde_json::Value>,
    pub rebuilt: Option<serde_json::Value>,
}

/// Rebuilds `V` into a shadow generation and compares it with the live documents. Documents the live view
/// has moved past (newer events applied since) are not counted as differences.
pub async fn verify<V: View>(
    pool: &PgPool,
    stores: &ReadStores,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Difference>, RunnerError> {
    let live = stores.active_generation::<V>().await?;
    // Far from any generation a replay would make next.
    let shadow = live + 1_000_000;
    build::<V>(pool, stores, shadow, &mut progress).await?;
    let rebuilt_at = stores
        .checkpoint::<V>(shadow)
        .await?
        .unwrap_or(Position::START);
    // Give the live projector a moment to reach the same point, if it is behind.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stores
        .checkpoint::<V>(live)
        .await?
        .unwrap_or(Position::START)
        < rebuilt_at
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let live_docs = stores.all::<V>(live).await?;
    let rebuilt_docs = stores.all::<V>(shadow).await?;
    stores.drop_generation::<V>(shadow).await?;
    let keys: BTreeSet<&String> = live_docs.keys().chain(rebuilt_docs.keys()).collect();
    let mut differences = Vec::new();
    for key in keys {
        let (live_doc, rebuilt_doc) = (live_docs.get(key), rebuilt_docs.get(key));
        if live_doc == rebuilt_doc {
            continue;
        }
        let moved_on = matches!((live_doc, rebuilt_doc), (Some(l), Some(r))
            if l.applied != r.applied && l.applied.iter().all(|(t, s)| r.applied.get(t).is_none_or(|rs| s >= rs)));
        if !moved_on {
            differences.push(Difference {
                key: key.clone(),
                live: live_doc.and_then(|d| serde_json::to_value(d).ok()),
                rebuilt: rebuilt_doc.and_then(|d| serde_json::to_value(d).ok()),
            });
        }
    }
    Ok(differences)
}
