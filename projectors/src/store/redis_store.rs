//! View documents in Redis: one JSON string per document under `<prefix>rm:<view>:g<generation>:<key>`,
//! written with the checkpoint in one transaction, which also announces the keys written to every near
//! cache (`platform::near_cache`; the checkpoint is the scope's stamp).

use std::collections::HashMap;

use eventstore::Position;
use platform::near_cache::{self, Scope};
use redis::AsyncCommands;

use super::{ReadStores, StoreError};
use crate::view::{Versioned, View};

fn active_key(stores: &ReadStores, view: &str) -> String {
    format!("{}rm:{view}:active", stores.prefix)
}

fn checkpoint_key(stores: &ReadStores, view: &str, generation: u64) -> String {
    format!("{}rm:{view}:g{generation}:_checkpoint", stores.prefix)
}

/// A generation's documents as a near-cache scope, stamped by its checkpoint.
pub fn scope(stores: &ReadStores, view: &str, generation: u64) -> Scope {
    Scope::new(
        format!("{}rm:{view}:g{generation}", stores.prefix),
        checkpoint_key(stores, view, generation),
    )
}

pub async fn active_generation(stores: &ReadStores, view: &str) -> Result<u64, StoreError> {
    let mut redis = stores.redis.clone();
    let generation: Option<u64> = redis.get(active_key(stores, view)).await?;
    Ok(generation.unwrap_or(0))
}

pub async fn activate(stores: &ReadStores, view: &str, generation: u64) -> Result<(), StoreError> {
    let mut redis = stores.redis.clone();
    redis
        .set::<_, _, ()>(active_key(stores, view), generation)
        .await?;
    Ok(())
}

pub async fn checkpoint(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<Option<String>, StoreError> {
    let mut redis = stores.redis.clone();
    Ok(redis.get(checkpoint_key(stores, view, generation)).await?)
}

fn parse<V: View>(json: &str) -> Result<Versioned<V>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub async fn load<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    keys: &[String],
) -> Result<HashMap<String, Versioned<V>>, StoreError> {
    let mut redis = stores.redis.clone();
    let redis_keys: Vec<String> = keys
        .iter()
        .map(|k| stores.redis_key(view, generation, k))
        .collect();
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&redis_keys)
        .query_async(&mut redis)
        .await?;
    keys.iter()
        .zip(values)
        .filter_map(|(key, value)| value.map(|json| parse(&json).map(|doc| (key.clone(), doc))))
        .collect()
}

pub async fn save<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    docs: &[(String, Versioned<V>)],
    checkpoint: Position,
) -> Result<(), StoreError> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    let keys: Vec<String> = docs
        .iter()
        .map(|(key, _)| stores.redis_key(view, generation, key))
        .collect();
    for (redis_key, (_, doc)) in keys.iter().zip(docs) {
        let json = serde_json::to_string(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        pipe.set(redis_key, json).ignore();
    }
    let checkpoint = checkpoint.to_string();
    pipe.set(checkpoint_key(stores, view, generation), &checkpoint)
        .ignore();
    near_cache::announce(
        &mut pipe,
        &stores.announcements,
        &scope(stores, view, generation),
        &checkpoint,
        keys.iter().map(String::as_str),
    );
    let mut redis = stores.redis.clone();
    pipe.query_async::<()>(&mut redis).await?;
    Ok(())
}

async fn generation_keys(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<Vec<String>, StoreError> {
    let mut redis = stores.redis.clone();
    let pattern = stores.redis_key(view, generation, "*");
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut redis)
            .await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

pub async fn all<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<HashMap<String, Versioned<V>>, StoreError> {
    let prefix = stores.redis_key(view, generation, "");
    let keys: Vec<String> = generation_keys(stores, view, generation)
        .await?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
        .filter(|k| k != "_checkpoint")
        .collect();
    let mut docs = HashMap::new();
    for chunk in keys.chunks(500) {
        docs.extend(load::<V>(stores, view, generation, chunk).await?);
    }
    Ok(docs)
}

pub async fn drop_generation(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<(), StoreError> {
    let keys = generation_keys(stores, view, generation).await?;
    let mut redis = stores.redis.clone();
    for chunk in keys.chunks(500) {
        redis.del::<_, ()>(chunk).await?;
    }
    Ok(())
}
