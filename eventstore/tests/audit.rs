//! The audit chain against the real PostgreSQL: intact, then tampered with in every way.

use std::time::Duration;

use eventstore::testing::{eventually, fresh_database};
use sqlx::PgPool;

async fn seed(pool: &PgPool) {
    for stream in ["a", "b"] {
        for sequence in 1..=3 {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                 VALUES ('order', $1, $2, 'Happened', '1.0', $3::json, '{\"user_id\":\"u1\"}')",
            )
            .bind(stream)
            .bind(sequence)
            .bind(format!("{{\"Happened\":{{\"n\":{sequence}}}}}"))
            .execute(pool)
            .await
            .unwrap();
        }
    }
}

/// Seals until `expected` events are sealed: other tests' open transactions on the server may hold the
/// feed back for a moment.
async fn seal_all(pool: &PgPool, expected: u64) {
    let mut sealed = 0;
    eventually(
        &format!("{expected} events sealed"),
        Duration::from_secs(10),
        async || {
            sealed += eventstore::audit::seal(pool).await.unwrap();
            (sealed >= expected).then_some(())
        },
    )
    .await;
    assert_eq!(sealed, expected);
}

async fn position_of(pool: &PgPool, stream: &str, sequence: i64) -> i64 {
    sqlx::query_scalar("SELECT position FROM events WHERE aggregate_id = $1 AND sequence = $2")
        .bind(stream)
        .bind(sequence)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_untouched_store_verifies() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 6);
    // Sealing twice seals nothing new; a sealed, untouched store still verifies.
    seal_all(&pool, 6).await;
    assert_eq!(eventstore::audit::seal(&pool).await.unwrap(), 0);
    assert!(eventstore::audit::verify(&pool).await.unwrap().ok);
}

#[tokio::test]
async fn a_changed_payload_is_found_at_its_position() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    sqlx::query("UPDATE events SET payload = '{\"Happened\":{\"n\":99}}' WHERE aggregate_id = 'a' AND sequence = 2")
        .execute(&pool)
        .await
        .unwrap();
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.broken[0].position,
        Some(position_of(&pool, "a", 2).await)
    );
    assert_eq!(report.broken.len(), 1, "only the changed event: {report:?}");
}

#[tokio::test]
async fn a_changed_metadata_is_found() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    sqlx::query("UPDATE events SET metadata = '{\"user_id\":\"mallory\"}' WHERE aggregate_id = 'b' AND sequence = 1")
        .execute(&pool)
        .await
        .unwrap();
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert_eq!(
        report.broken[0].position,
        Some(position_of(&pool, "b", 1).await)
    );
}

#[tokio::test]
async fn a_deleted_event_in_the_middle_of_a_stream_is_found() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    let next = position_of(&pool, "a", 3).await;
    sqlx::query("DELETE FROM events WHERE aggregate_id = 'a' AND sequence = 2")
        .execute(&pool)
        .await
        .unwrap();
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.broken[0].position,
        Some(next),
        "the event after the gap is named"
    );
}

#[tokio::test]
async fn a_deleted_last_event_is_found_by_the_seal() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    seal_all(&pool, 6).await;
    sqlx::query("DELETE FROM events WHERE aggregate_id = 'b' AND sequence = 3")
        .execute(&pool)
        .await
        .unwrap();
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(!report.ok);
    assert!(
        report.broken.iter().any(|b| b.reason.contains("deleted")),
        "{report:?}"
    );
}

#[tokio::test]
async fn two_swapped_events_are_found() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    for (from, to) in [(1, 100), (2, 1), (100, 2)] {
        sqlx::query("UPDATE events SET sequence = $2 WHERE aggregate_id = 'a' AND sequence = $1")
            .bind(from)
            .bind(to)
            .execute(&pool)
            .await
            .unwrap();
    }
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(!report.ok, "{report:?}");
}

#[tokio::test]
async fn a_stream_deleted_entirely_is_found_by_the_seal() {
    let (pool, _) = fresh_database().await;
    seed(&pool).await;
    seal_all(&pool, 6).await;
    sqlx::query("DELETE FROM events WHERE aggregate_id = 'a'")
        .execute(&pool)
        .await
        .unwrap();
    let report = eventstore::audit::verify(&pool).await.unwrap();
    assert!(
        report.broken.iter().any(|b| b.reason.contains("deleted")),
        "{report:?}"
    );
}
