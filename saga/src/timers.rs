//! Durable timers in PostgreSQL: a payment deadline set when a checkout starts fires even if the process
//! that set it died meanwhile.

use chrono::{DateTime, Utc};
use eventstore::db::PgPool;
use sqlx::Row;

/// Arms, in one statement, `order_id`'s payment deadline (when given) and the expiry of its hold on each of
/// `products` at `hold_until`. The deadline is set anew: it is armed only for a checkout not started yet, so a
/// timer left by an earlier attempt that never started it (perhaps fired already) belonged to nothing. An
/// expiry already armed for the same hold keeps its time.
pub async fn arm(
    pool: &PgPool,
    order_id: &str,
    deadline: Option<DateTime<Utc>>,
    products: &[String],
    hold_until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH deadline AS ( \
           INSERT INTO saga_timers (order_id, due_at) SELECT $1, $2 WHERE $2 IS NOT NULL \
           ON CONFLICT (order_id) DO UPDATE SET due_at = EXCLUDED.due_at, fired = false) \
         INSERT INTO reservation_expiries (product_id, order_id, due_at) \
         SELECT product_id, $1, $4 FROM unnest($3::text[]) AS product_id \
         ON CONFLICT (product_id, order_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(deadline)
    .bind(products)
    .bind(hold_until)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes up to `limit` timers due by `now`, deleting them; several processes can poll at once and each timer
/// fires in one of them. `now` is the saga's clock, which set the due times. A timer whose firing failed is
/// armed again with [`rearm`]; one taken by a process that died before firing it is lost (as when it was
/// marked fired instead): the deadline is a backstop, and a checkout's redelivered message still meets its
/// payment's own time limit.
pub async fn take_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "DELETE FROM saga_timers WHERE order_id IN \
           (SELECT order_id FROM saga_timers WHERE NOT fired AND due_at <= $2 \
            ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING order_id",
    )
    .bind(limit)
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| r.get("order_id")).collect())
}

/// Puts back a timer whose firing failed, due at `due_at`, so that it fires again.
pub async fn rearm(
    pool: &PgPool,
    order_id: &str,
    due_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO saga_timers (order_id, due_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(order_id)
    .bind(due_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Claims up to `limit` holds lapsed by `now` as (product id, order id); several sweepers never claim the
/// same one.
pub async fn take_due_expiries(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE reservation_expiries SET fired = true WHERE (product_id, order_id) IN \
           (SELECT product_id, order_id FROM reservation_expiries WHERE NOT fired AND due_at <= $2 \
            ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING product_id, order_id",
    )
    .bind(limit)
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("product_id"), r.get("order_id")))
        .collect())
}

/// Forgets a hold that was expired (or found settled); `rearm` it instead when expiring failed.
pub async fn settle_expiry(
    pool: &PgPool,
    product_id: &str,
    order_id: &str,
    rearm: bool,
) -> Result<(), sqlx::Error> {
    let sql = if rearm {
        "UPDATE reservation_expiries SET fired = false WHERE product_id = $1 AND order_id = $2"
    } else {
        "DELETE FROM reservation_expiries WHERE product_id = $1 AND order_id = $2"
    };
    sqlx::query(sql)
        .bind(product_id)
        .bind(order_id)
        .execute(pool)
        .await?;
    Ok(())
}
