//! Values that must stay unique across aggregates: a user's email, a product's SKU, a promotion's code
//! (docs/adr/0002).
//!
//! A claim is written in the same transaction as the events of the command that introduces the value
//! (`Unit::claim`), so it exists exactly when they do. The primary key decides between concurrent writers,
//! so exactly one of them gets the value.

use sqlx::{PgExecutor, PgPool, Row};

/// The kinds of unique values, with the aggregate type that owns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    Email,
    Sku,
    /// A promotion's discount code, upper case.
    DiscountCode,
}

impl ClaimKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sku => "sku",
            Self::DiscountCode => "discount_code",
        }
    }

    fn owner_type(self) -> &'static str {
        match self {
            Self::Email => "user",
            Self::Sku => "product",
            Self::DiscountCode => "promotion",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("the value is already taken")]
    Taken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct UniqueClaims {
    pool: PgPool,
}

impl UniqueClaims {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Claims `value` for `owner_id`. Succeeds if it is free, already this owner's, or held by an owner that
    /// never got a single event for a minute (a claim taken on its own by an older version, whose writer
    /// crashed before appending). Writers that claim with their events use `Unit::claim` instead, so a claim
    /// never outlives a failed command.
    pub async fn claim(
        &self,
        kind: ClaimKind,
        value: &str,
        owner_id: &str,
    ) -> Result<(), ClaimError> {
        claim_with(&self.pool, kind, value, owner_id).await
    }

    /// The owner of a value, e.g. the user id registered with an email.
    pub async fn owner(&self, kind: ClaimKind, value: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT owner_id FROM unique_claims WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.get("owner_id")))
    }
}

/// Claims `value` for `owner_id` on the pool or inside the caller's transaction (see [`UniqueClaims::claim`]).
/// Inside a transaction, a concurrent claim of the same value waits for it to end.
pub(crate) async fn claim_with<'c>(
    executor: impl PgExecutor<'c>,
    kind: ClaimKind,
    value: &str,
    owner_id: &str,
) -> Result<(), ClaimError> {
    let row = sqlx::query(
        "INSERT INTO unique_claims (kind, value, owner_id) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, value) DO UPDATE SET owner_id = EXCLUDED.owner_id, claimed_at = now() \
           WHERE unique_claims.owner_id = EXCLUDED.owner_id \
              OR (unique_claims.claimed_at < now() - interval '60 seconds' \
                  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = $4 \
                                  AND e.aggregate_id = unique_claims.owner_id)) \
         RETURNING owner_id",
    )
    .bind(kind.as_str())
    .bind(value)
    .bind(owner_id)
    .bind(kind.owner_type())
    .fetch_optional(executor)
    .await?;
    match row {
        Some(row) if row.get::<String, _>("owner_id") == owner_id => Ok(()),
        _ => Err(ClaimError::Taken),
    }
}
