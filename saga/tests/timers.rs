//! The checkout's timers against the real PostgreSQL: arming a checkout that was never started sets its
//! deadline anew, even one that fired, and leaves a hold's expiry where it was; a timer taken is deleted.

use chrono::{Duration, Utc};
use eventstore::testing::fresh_database;
use saga::timers;
use uuid::Uuid;

#[tokio::test]
async fn arming_again_sets_the_deadline_anew_and_keeps_each_holds_first_expiry() {
    let (pool, _) = fresh_database().await;
    let order = Uuid::now_v7().to_string();
    let products = [Uuid::now_v7().to_string(), Uuid::now_v7().to_string()];
    let now = Utc::now();

    timers::arm(
        &pool,
        &order,
        Some(now),
        &products,
        now + Duration::minutes(15),
    )
    .await
    .unwrap();
    assert_eq!(
        timers::take_due(&pool, now, 10).await.unwrap(),
        std::slice::from_ref(&order)
    );

    // The message that armed them comes again (its checkout never started): the deadline fires again later.
    let later = now + Duration::seconds(30);
    timers::arm(
        &pool,
        &order,
        Some(later),
        &products,
        later + Duration::minutes(15),
    )
    .await
    .unwrap();
    assert!(timers::take_due(&pool, now, 10).await.unwrap().is_empty());
    assert_eq!(
        timers::take_due(&pool, later, 10).await.unwrap(),
        std::slice::from_ref(&order)
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_timers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        left, 0,
        "a timer taken is gone: the table holds only timers still to fire"
    );

    let expiries = timers::take_due_expiries(&pool, now + Duration::minutes(15), 10)
        .await
        .unwrap();
    assert_eq!(expiries.len(), 2, "each hold keeps the expiry armed first");
    assert!(expiries.iter().all(|(_, held_for)| *held_for == order));
}
