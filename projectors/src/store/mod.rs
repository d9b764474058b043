//! Where view documents live. Every view writes into a *generation* (`orders_g3`, `rm:carts:g3:<id>`), so a
//! replay can build the next one beside the live one and switch readers over by moving one pointer.
//!
//! A view's checkpoint is stored with its documents, in the same store: if Redis loses its data, the Redis
//! views lose their checkpoints with it and rebuild from the start instead of staying empty
//! (docs/adr/0005-read-model-generations-and-checkpoints.md).

mod mongo;
pub mod query;
mod redis_store;

use std::collections::HashMap;

use eventstore::Position;
use platform::near_cache;
use redis::aio::ConnectionManager;

use crate::view::{StoreKind, Versioned, View};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("a stored document does not fit its view: {0}")]
    Corrupt(String),
}

impl From<near_cache::NearCacheError> for StoreError {
    fn from(error: near_cache::NearCacheError) -> Self {
        match error {
            near_cache::NearCacheError::Redis(error) => Self::Redis(error),
            undecodable => Self::Corrupt(undecodable.to_string()),
        }
    }
}

/// The read models' stores: MongoDB for documents that are searched and listed, Redis for hot views.
#[derive(Clone)]
pub struct ReadStores {
    pub mongo: mongodb::Database,
    pub redis: ConnectionManager,
    /// Prefix of every Redis key, so several shops (or tests) share one server.
    pub prefix: String,
    /// The near-cache channel that every write to a Redis view announces its keys on
    /// (`platform::near_cache::channel`).
    pub announcements: String,
}

impl std::fmt::Debug for ReadStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadStores")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ReadStores {
    /// Connects to MongoDB (the driver connects lazily) and keeps the Redis connection given, with its
    /// key prefix and the near-cache channel its writes announce on.
    pub async fn connect(
        mongodb_url: &str,
        database: &str,
        redis: ConnectionManager,
        prefix: &str,
        announcements: &str,
    ) -> Result<Self, StoreError> {
        let mut options = mongodb::options::ClientOptions::parse(mongodb_url).await?;
        // No retryable writes: every write here is a projector's, idempotent (documents know what they
        // applied; a checkpoint is a `$set`), and a failed batch is run again by its runner. A retryable
        // write costs the server a record per write; SecantusDB spent most of its CPU keeping them
        // (docs/adr/0005, docs/performance.md).
        options.retry_writes = Some(false);
        let client = mongodb::Client::with_options(options)?;
        Ok(Self {
            mongo: client.database(database),
            redis,
            prefix: prefix.to_owned(),
            announcements: announcements.to_owned(),
        })
    }

    /// A round trip to MongoDB, for readiness checks.
    pub async fn ping_mongo(&self) -> Result<(), StoreError> {
        self.mongo
            .run_command(mongodb::bson::doc! {"ping": 1})
            .await?;
        Ok(())
    }

    /// The generation readers use now (0 until a replay switched).
    pub async fn active_generation<V: View>(&self) -> Result<u64, StoreError> {
        match V::STORE {
            StoreKind::Mongo => mongo::active_generation(self, V::NAME).await,
            StoreKind::Redis => redis_store::active_generation(self, V::NAME).await,
        }
    }

    /// Points readers (and the live runner) at `generation`.
    pub async fn activate<V: View>(&self, generation: u64) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => mongo::activate(self, V::NAME, generation).await,
            StoreKind::Redis => redis_store::activate(self, V::NAME, generation).await,
        }
    }

    /// Where `generation` of the view has got to in the feed.
    pub async fn checkpoint<V: View>(
        &self,
        generation: u64,
    ) -> Result<Option<Position>, StoreError> {
        let raw = match V::STORE {
            StoreKind::Mongo => mongo::checkpoint(self, V::NAME, generation).await?,
            StoreKind::Redis => redis_store::checkpoint(self, V::NAME, generation).await?,
        };
        raw.map(|s| {
            s.parse()
                .map_err(|_| StoreError::Corrupt(format!("checkpoint {s:?}")))
        })
        .transpose()
    }

    /// The documents with these keys that exist.
    pub async fn load<V: View>(
        &self,
        generation: u64,
        keys: &[String],
    ) -> Result<HashMap<String, Versioned<V>>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        match V::STORE {
            StoreKind::Mongo => mongo::load(self, V::NAME, generation, keys).await,
            StoreKind::Redis => redis_store::load(self, V::NAME, generation, keys).await,
        }
    }

    /// Writes each document once, then the checkpoint.
    pub async fn save<V: View>(
        &self,
        generation: u64,
        docs: &[(String, Versioned<V>)],
        checkpoint: Position,
    ) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => {
                mongo::save(self, V::NAME, generation, docs, checkpoint).await?;
                self.announce_checkpoint::<V>(generation, checkpoint).await;
                Ok(())
            }
            StoreKind::Redis => {
                redis_store::save(self, V::NAME, generation, docs, checkpoint).await
            }
        }
    }

    /// Writes each document of a MongoDB view once, without its checkpoint, and announces `reached`: the
    /// stored checkpoint follows later (the runner writes it at most once a second under load). Hearing the
    /// announcement means the documents are there; a restart before the checkpoint is written re-reads those
    /// events, which each document knows it applied. A Redis view writes its checkpoint with its documents.
    pub async fn save_documents<V: View>(
        &self,
        generation: u64,
        docs: &[(String, Versioned<V>)],
        reached: Position,
    ) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => {
                mongo::save_documents(self, V::NAME, generation, docs).await?;
                self.announce_checkpoint::<V>(generation, reached).await;
                Ok(())
            }
            StoreKind::Redis => redis_store::save(self, V::NAME, generation, docs, reached).await,
        }
    }

    /// Tells every near cache that a MongoDB view's generation has reached `checkpoint`, so reads waiting
    /// for it (`X-Min-Position`) stop at once. Sent after the write, so hearing it means the documents are
    /// there. Best effort: without it those reads find the checkpoint by polling, so a failure is only logged.
    pub async fn announce_checkpoint<V: View>(&self, generation: u64, checkpoint: Position) {
        let message =
            near_cache::announcement(&self.scope::<V>(generation), &checkpoint.to_string(), []);
        let mut redis = self.redis.clone();
        let published: Result<(), _> = redis::cmd("PUBLISH")
            .arg(&self.announcements)
            .arg(message)
            .query_async(&mut redis)
            .await;
        if let Err(error) = published {
            tracing::warn!(view = V::NAME, %error, "cannot announce a checkpoint; readers will poll");
        }
    }

    /// Every document of a generation, for verification.
    pub async fn all<V: View>(
        &self,
        generation: u64,
    ) -> Result<HashMap<String, Versioned<V>>, StoreError> {
        match V::STORE {
            StoreKind::Mongo => mongo::all(self, V::NAME, generation).await,
            StoreKind::Redis => redis_store::all(self, V::NAME, generation).await,
        }
    }

    /// Writes documents known to be new (a build into an empty generation), then the checkpoint.
    pub async fn insert_new<V: View>(
        &self,
        generation: u64,
        docs: &[(String, Versioned<V>)],
        checkpoint: Position,
    ) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => {
                mongo::insert_new(self, V::NAME, generation, docs, checkpoint).await?;
                self.announce_checkpoint::<V>(generation, checkpoint).await;
                Ok(())
            }
            // A Redis SET is no dearer than an insert: write in slices, so no pipeline gets huge.
            StoreKind::Redis => {
                for slice in docs.chunks(10_000) {
                    redis_store::save(self, V::NAME, generation, slice, checkpoint).await?;
                }
                if docs.is_empty() {
                    redis_store::save::<V>(self, V::NAME, generation, &[], checkpoint).await?;
                }
                Ok(())
            }
        }
    }

    /// Makes a generation ready to serve reads: the view's indexes (MongoDB only).
    pub async fn create_indexes<V: View>(&self, generation: u64) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => mongo::create_indexes::<V>(self, generation).await,
            StoreKind::Redis => Ok(()),
        }
    }

    /// Deletes a generation's documents and checkpoint.
    pub async fn drop_generation<V: View>(&self, generation: u64) -> Result<(), StoreError> {
        match V::STORE {
            StoreKind::Mongo => mongo::drop_generation(self, V::NAME, generation).await,
            StoreKind::Redis => redis_store::drop_generation(self, V::NAME, generation).await,
        }
    }

    /// The near-cache scope of a view's generation (for a MongoDB view, only its checkpoint is announced).
    pub fn scope<V: View>(&self, generation: u64) -> near_cache::Scope {
        redis_store::scope(self, V::NAME, generation)
    }

    pub(crate) fn redis_key(&self, view: &str, generation: u64, key: &str) -> String {
        format!("{}rm:{view}:g{generation}:{key}", self.prefix)
    }
}

/// The MongoDB collection of a view's generation.
pub fn collection_name(view: &str, generation: u64) -> String {
    format!("{view}_g{generation}")
}
