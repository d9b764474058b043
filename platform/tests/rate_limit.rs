//! The rate limiter on the machine's Redis: slots reserved in one step, refused ones not counted, slots
//! given back, and windows that open with a bucket's first attempt.

use platform::rate_limit::{RateError, RateLimiter};
use redis::aio::ConnectionManager;

async fn limiter() -> RateLimiter {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let redis = ConnectionManager::new(redis::Client::open(url).unwrap())
        .await
        .unwrap();
    RateLimiter::new(redis, &format!("test:{}:", uuid::Uuid::now_v7().simple()))
}

#[tokio::test]
async fn reservations_past_the_limit_are_refused_uncounted_and_slots_come_back() {
    let limiter = limiter().await;
    let mut slots = Vec::new();
    for n in 1..=3 {
        let slot = limiter.reserve("b", 3).await.unwrap();
        assert_eq!(slot.count, n);
        slots.push(slot);
    }
    match limiter.reserve("b", 3).await {
        Err(RateError::Limited(limited)) => assert!((1..=60).contains(&limited.retry_after)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        limiter.count("b").await.unwrap(),
        3,
        "a refused reservation counts nothing"
    );

    limiter.give_back(slots.pop().unwrap()).await.unwrap();
    assert_eq!(limiter.count("b").await.unwrap(), 2);
    assert_eq!(limiter.reserve("b", 3).await.unwrap().count, 3);
}

#[tokio::test]
async fn hits_past_the_limit_are_refused_and_still_counted() {
    let limiter = limiter().await;
    limiter.hit("h", 1).await.unwrap();
    assert!(matches!(
        limiter.hit("h", 1).await,
        Err(RateError::Limited(_))
    ));
    limiter.record("h").await.unwrap();
    assert_eq!(limiter.count("h").await.unwrap(), 3);
    assert_eq!(limiter.count("never").await.unwrap(), 0);
}

#[tokio::test]
async fn a_concurrent_burst_gets_exactly_the_limit() {
    let limiter = limiter().await;
    let tries = futures::future::join_all((0..50).map(|_| limiter.reserve("burst", 10))).await;
    assert_eq!(tries.iter().filter(|t| t.is_ok()).count(), 10);
}
