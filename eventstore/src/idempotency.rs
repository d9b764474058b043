//! `Idempotency-Key` records: the first response to a key is kept for 24 hours and replayed to every retry
//! with the same key and body (docs/adr/0003), and a crash at any point never strands a key (docs/adr/0012).
//!
//! A claim is a lease held by one request. The events of the command it runs commit in the same transaction
//! as the answer it gives ([`CommittedAnswer`], written by the `CommandBus` only while the lease is still that
//! request's). So after a crash a key is either committed, and a retry gets that answer, or not, and a retry
//! takes the lease over once it has lapsed and runs the request afresh. A request whose lease was taken over
//! can no longer commit: only one of the two ever appends.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Keys older than this are forgotten.
const RETENTION: &str = "24 hours";
/// How long a request holds its key by default before a retry may take it over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    /// Headers worth replaying (name → value), e.g. `Content-Type`, `ETag`.
    pub headers: Value,
    pub body: Vec<u8>,
}

/// A key claimed by one request, until its lease lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub scope: String,
    pub key: String,
    /// Names the request holding the key; a retry that takes the key over gets a new one.
    pub token: Uuid,
    /// The HTTP status the request answers with once its command committed (201 or 202).
    pub status: u16,
    /// The id the request answers with; `None` for the id of the last aggregate its command wrote.
    pub answer_id: Option<String>,
}

/// What a request answered once its events committed, recorded in the same transaction as them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedAnswer {
    pub status: u16,
    pub id: String,
    pub version: u64,
    /// The position token of the last event appended.
    pub position: Option<String>,
}

/// What a request with an idempotency key may do.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// The key is this request's until the lease lapses: run the request, then
    /// [`IdempotencyStore::complete`] or [`IdempotencyStore::abandon`].
    Run(Lease),
    /// The key was used before with the same request: answer this again.
    Replay(StoredResponse),
    /// The first request with this key committed its events but did not record its response (it crashed,
    /// or is finishing now): answer as it did.
    Committed(CommittedAnswer),
    /// The key was used before with a different request.
    Mismatch,
    /// The first request with this key is still running; its lease lapses within `retry_after`.
    InFlight { retry_after: Duration },
}

#[derive(Clone)]
pub struct IdempotencyStore {
    pool: PgPool,
    lease: Duration,
}

impl IdempotencyStore {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            lease: DEFAULT_LEASE,
        }
    }

    /// How long a request holds its key before a retry may take it over. Longer than the slowest request
    /// should take; a request slower than its lease is refused when it tries to commit, never run twice.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claims `key` within `scope` (the user, or the client address for anonymous requests).
    pub async fn claim(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
    ) -> Result<IdempotencyClaim, sqlx::Error> {
        let token = Uuid::new_v4();
        // A new key is inserted; an expired record is replaced; a lapsed lease whose request committed
        // nothing is taken over. If its holder is committing right now, this waits for the row and then
        // sees `committed` set.
        let inserted = sqlx::query(&format!(
            "INSERT INTO idempotency_keys (scope, key, request_hash, lease, lease_until) \
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) \
             ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, \
               headers = NULL, body = NULL, committed = NULL, created_at = now(), lease = EXCLUDED.lease, \
               lease_until = EXCLUDED.lease_until \
               WHERE idempotency_keys.created_at < now() - interval '{RETENTION}' \
                  OR (idempotency_keys.request_hash = EXCLUDED.request_hash \
                      AND idempotency_keys.status IS NULL AND idempotency_keys.committed IS NULL \
                      AND idempotency_keys.lease_until < now()) \
             RETURNING 1"
        ))
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .bind(token)
        .bind(self.lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        if inserted.is_some() {
            return Ok(IdempotencyClaim::Run(Lease {
                scope: scope.to_owned(),
                key: key.to_owned(),
                token,
                status: 202,
                answer_id: None,
            }));
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, status, headers, body, committed, \
                    GREATEST(EXTRACT(EPOCH FROM lease_until - now()), 0)::float8 AS lease_left \
             FROM idempotency_keys WHERE scope = $1 AND key = $2",
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
        if let Some(status) = row.get::<Option<i16>, _>("status") {
            return Ok(IdempotencyClaim::Replay(StoredResponse {
                status: status as u16,
                headers: row
                    .get::<Option<Value>, _>("headers")
                    .unwrap_or(Value::Null),
                body: row.get::<Option<Vec<u8>>, _>("body").unwrap_or_default(),
            }));
        }
        if let Some(committed) = row.get::<Option<Value>, _>("committed") {
            let answer =
                serde_json::from_value(committed).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            return Ok(IdempotencyClaim::Committed(answer));
        }
        let left = row.get::<f64, _>("lease_left");
        if left <= 0.0 {
            // The lease lapsed between the two statements: take it over now.
            return Box::pin(self.claim(scope, key, request_hash)).await;
        }
        Ok(IdempotencyClaim::InFlight {
            retry_after: Duration::from_secs_f64(left),
        })
    }

    /// Extends the lease of a request that is still running, so that only a dead process's lease lapses.
    /// `false` when the key is no longer this request's (a retry took it over) or its answer is in.
    pub async fn renew(&self, lease: &Lease) -> Result<bool, sqlx::Error> {
        let renewed = sqlx::query(
            "UPDATE idempotency_keys SET lease_until = now() + make_interval(secs => $4) \
             WHERE scope = $1 AND key = $2 AND lease = $3 AND status IS NULL AND committed IS NULL",
        )
        .bind(&lease.scope)
        .bind(&lease.key)
        .bind(lease.token)
        .bind(self.lease.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// How long a claim holds its key without renewal.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Stores the response to a key this request still holds.
    pub async fn complete(
        &self,
        lease: &Lease,
        response: &StoredResponse,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $4, headers = $5, body = $6 \
             WHERE scope = $1 AND key = $2 AND lease = $3",
        )
        .bind(&lease.scope)
        .bind(&lease.key)
        .bind(lease.token)
        .bind(response.status as i16)
        .bind(&response.headers)
        .bind(&response.body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Frees a key whose request failed for a reason worth retrying (a 5xx) and committed nothing.
    pub async fn abandon(&self, lease: &Lease) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND lease = $3 \
             AND status IS NULL AND committed IS NULL",
        )
        .bind(&lease.scope)
        .bind(&lease.key)
        .bind(lease.token)
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

/// Whether a request's answer could be recorded with its events.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    Yes,
    /// A retry took the key over: this request must not commit.
    LeaseLost,
    /// This request already committed under its key: one request, one commit (a bug if it happens).
    AlreadyCommitted,
}

/// Records `answer` for the key `lease` names, in the caller's transaction, if the lease is still this
/// request's and nothing was committed under it yet. Anything but [`Recorded::Yes`] means the transaction
/// must not commit.
pub(crate) async fn record_committed(
    transaction: &mut sqlx::PgConnection,
    lease: &Lease,
    answer: &CommittedAnswer,
) -> Result<Recorded, sqlx::Error> {
    let answer = serde_json::to_value(answer).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let row = sqlx::query(
        "WITH recorded AS ( \
           UPDATE idempotency_keys SET committed = $4 \
           WHERE scope = $1 AND key = $2 AND lease = $3 AND status IS NULL AND committed IS NULL \
           RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM recorded) AS recorded, \
                EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2 AND lease = $3 \
                        AND committed IS NOT NULL) AS before",
    )
    .bind(&lease.scope)
    .bind(&lease.key)
    .bind(lease.token)
    .bind(answer)
    .fetch_one(&mut *transaction)
    .await?;
    Ok(if row.get::<bool, _>("recorded") {
        Recorded::Yes
    } else if row.get::<bool, _>("before") {
        Recorded::AlreadyCommitted
    } else {
        Recorded::LeaseLost
    })
}
