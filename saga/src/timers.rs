//! Durable timers in PostgreSQL: a payment deadline set when a checkout starts fires even if the process
//! that set it died meanwhile.

use chrono::{DateTime, Utc};
use eventstore::db::PgPool;
use sqlx::Row;

pub async fn schedule(
    pool: &PgPool,
    order_id: &str,
    due_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO saga_timers (order_id, due_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING")
        .bind(order_id)
        .bind(due_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Takes up to `limit` timers that are due and not yet fired, marking them fired; several processes can
/// poll at once and each timer fires in one of them.
pub async fn take_due(pool: &PgPool, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE saga_timers SET fired = true WHERE order_id IN \
           (SELECT order_id FROM saga_timers WHERE NOT fired AND due_at <= now() \
            ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING order_id",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| r.get("order_id")).collect())
}

/// Puts a timer back when firing it failed, so that it fires again.
pub async fn rearm(pool: &PgPool, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE saga_timers SET fired = false WHERE order_id = $1")
        .bind(order_id)
        .execute(pool)
        .await?;
    Ok(())
}
