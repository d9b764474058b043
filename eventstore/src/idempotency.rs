//! `Idempotency-Key` records: the first response to a key is stored for 24 hours and replayed to every
//! retry with the same key and body (docs/adr/0003).

use serde_json::Value;
use sqlx::{PgPool, Row};

/// Keys older than this are forgotten.
const RETENTION: &str = "24 hours";

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    /// Headers worth replaying (name → value), e.g. `Content-Type`, `ETag`.
    pub headers: Value,
    pub body: Vec<u8>,
}

/// What a request with an idempotency key may do.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// First use of the key: run the request, then [`IdempotencyStore::complete`] or [`IdempotencyStore::abandon`].
    Run,
    /// The key was used before with the same request: answer this again.
    Replay(StoredResponse),
    /// The key was used before with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

#[derive(Clone)]
pub struct IdempotencyStore {
    pool: PgPool,
}

impl IdempotencyStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Claims `key` within `scope` (the user, or the client address for anonymous requests).
    pub async fn claim(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
    ) -> Result<IdempotencyClaim, sqlx::Error> {
        // An expired record is replaced in the same statement, so a key can be reused after 24 h.
        let inserted = sqlx::query(&format!(
            "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, \
               headers = NULL, body = NULL, created_at = now() \
               WHERE idempotency_keys.created_at < now() - interval '{RETENTION}' \
             RETURNING 1"
        ))
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .fetch_optional(&self.pool)
        .await?;
        if inserted.is_some() {
            return Ok(IdempotencyClaim::Run);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        else {
            // Abandoned between our insert attempt and this read: the key is free again.
            return Box::pin(self.claim(scope, key, request_hash)).await;
        };
        if row.get::<Vec<u8>, _>("request_hash") != request_hash {
            return Ok(IdempotencyClaim::Mismatch);
        }
        Ok(match row.get::<Option<i16>, _>("status") {
            None => IdempotencyClaim::InFlight,
            Some(status) => IdempotencyClaim::Replay(StoredResponse {
                status: status as u16,
                headers: row
                    .get::<Option<Value>, _>("headers")
                    .unwrap_or(Value::Null),
                body: row.get::<Option<Vec<u8>>, _>("body").unwrap_or_default(),
            }),
        })
    }

    /// Stores the response to a claimed key.
    pub async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .bind(response.status as i16)
            .bind(&response.headers)
            .bind(&response.body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Frees a claimed key whose request failed for a reason worth retrying (a 5xx).
    pub async fn abandon(&self, scope: &str, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes expired records; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(&format!(
            "DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION}'"
        ))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
